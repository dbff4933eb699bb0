"""The reports and the comparable export read from the site's read replica; writes stay on the primary.

The test starts a second MariaDB server of its own on loopback (a fresh datadir, `mariadb-install-db`,
then `mariadbd` on UNIONCASE_TEST_REPLICA_PORT, 3310 unless set) and stops it afterwards. The test
primary (the system MariaDB) writes no binlog, so it cannot feed real replication: the replica is
loaded with a `mariadb-dump` of the test database instead, which is what a replica holds at one
point in time. One case is then removed on the replica only, so figures read there differ from the
primary's by exactly one case.
"""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import frappe
import pymysql
from frappe.utils import nowdate

from unioncase.compat import IntegrationTestCase
from unioncase.reports import export
from unioncase.tests.hierarchy_data import ensure_hierarchy

PORT = int(os.environ.get("UNIONCASE_TEST_REPLICA_PORT", "3310"))
FEDERATION = "T Federasi Garmen"
ALL = "All"
ALL_TIME = {"from_date": "2000-01-01", "to_date": nowdate(), "period": "Year"}


class ReplicaServer:
	"""A throwaway mariadbd on 127.0.0.1:PORT holding a dump of the test site's database."""

	def __init__(self):
		self.dir = Path(tempfile.mkdtemp(prefix="uc-replica-"))
		self.socket = str(self.dir / "mariadbd.sock")
		self.process = None

	def start(self):
		datadir = self.dir / "data"
		user = ["--user=root"] if os.geteuid() == 0 else []
		subprocess.run(
			["mariadb-install-db", "--no-defaults", f"--datadir={datadir}", "--skip-test-db", *user],
			check=True,
			capture_output=True,
			timeout=120,
		)
		self.process = subprocess.Popen(
			[
				"mariadbd",
				"--no-defaults",
				f"--datadir={datadir}",
				f"--port={PORT}",
				"--bind-address=127.0.0.1",
				f"--socket={self.socket}",
				f"--pid-file={self.dir / 'mariadbd.pid'}",
				"--skip-log-bin",
				"--innodb-buffer-pool-size=64M",
				*user,
			],
			stdout=open(self.dir / "mariadbd.log", "w"),
			stderr=subprocess.STDOUT,
			start_new_session=True,
		)
		for _ in range(300):
			if self.process.poll() is not None:
				raise RuntimeError((self.dir / "mariadbd.log").read_text())
			try:
				self.connect().close()
				return
			except pymysql.err.OperationalError:
				time.sleep(0.1)
		raise RuntimeError("the replica server did not start")

	def connect(self, db=None):
		return pymysql.connect(unix_socket=self.socket, user="root", database=db, autocommit=True)

	def load(self, conf):
		"""The site's database and user on the replica, from a dump of the primary."""
		db, user, password = conf.db_name, conf.db_user or conf.db_name, conf.db_password
		with self.connect() as connection, connection.cursor() as cursor:
			cursor.execute(f"create database `{db}` character set utf8mb4 collate utf8mb4_unicode_ci")
			for host in ("localhost", "127.0.0.1", "%"):
				cursor.execute("create user %s@%s identified by %s", (user, host, password))
				cursor.execute(f"grant all privileges on `{db}`.* to %s@%s", (user, host))
		source = ["-h", conf.db_host or "127.0.0.1", "-P", str(conf.db_port or 3306)]
		dump = subprocess.Popen(
			[
				"mariadb-dump",
				"--no-defaults",
				*source,
				"-u",
				user,
				f"-p{password}",
				"--single-transaction",
				db,
			],
			stdout=subprocess.PIPE,
		)
		subprocess.run(
			["mariadb", "--no-defaults", f"--socket={self.socket}", "-uroot", db],
			stdin=dump.stdout,
			check=True,
			timeout=600,
		)
		dump.stdout.close()
		if dump.wait(timeout=60):
			raise RuntimeError("mariadb-dump of the test database failed")

	def scalar(self, sql, *args):
		with self.connect(frappe.conf.db_name) as connection, connection.cursor() as cursor:
			cursor.execute(sql, args)
			return cursor.fetchone()[0]

	def stop(self):
		if self.process and self.process.poll() is None:
			self.process.terminate()
			try:
				self.process.wait(timeout=60)
			except subprocess.TimeoutExpired:
				self.process.kill()
				self.process.wait()
		shutil.rmtree(self.dir, ignore_errors=True)


class TestReadReplica(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.cases = ensure_hierarchy()  # committed: the dump carries it
		cls.replica = ReplicaServer()
		try:
			cls.replica.start()
			cls.replica.load(frappe.conf)
		except Exception:
			cls.replica.stop()
			raise
		# the one row that differs: a case of the federation's subtree exists on the primary only
		cls.gone = frappe.db.get_value(
			"Grievance", {"federation": FEDERATION, "workplace_union": ["is", "set"]}
		)
		cls.replica.scalar("select count(*) from `tabGrievance`")  # the dump arrived
		with cls.replica.connect(frappe.conf.db_name) as connection, connection.cursor() as cursor:
			cursor.execute("delete from `tabGrievance` where name = %s", (cls.gone,))
			# as the app deletes a case: its row of the analytics table goes with it (reports/summary.py)
			cursor.execute("delete from `tabGrievance Analytics` where name = %s", (cls.gone,))

	@classmethod
	def tearDownClass(cls):
		cls.replica_off()
		cls.replica.stop()
		super().tearDownClass()

	@staticmethod
	def replica_on():
		frappe.local.conf.update(read_from_replica=1, replica_host="127.0.0.1", replica_db_port=PORT)

	@staticmethod
	def replica_off():
		for key in ("read_from_replica", "replica_host", "replica_db_port"):
			frappe.local.conf.pop(key, None)
		# frappe.read_only leaves both connections on frappe.local until the request ends; a test
		# process is one long request, so forget them for the next read to switch again
		for key in ("replica_db", "primary_db"):
			if hasattr(frappe.local, key):
				delattr(frappe.local, key)

	def tearDown(self):
		self.replica_off()
		frappe.set_user("Administrator")

	def case_volume_total(self, **filters):
		from frappe.desk.query_report import run

		result = run("Case Volume", filters={**ALL_TIME, "union": FEDERATION, **filters})
		return sum(row["total"] for row in result["result"] if isinstance(row, dict) and row.get("category"))

	def test_a_report_reads_the_replica(self):
		self.assertTrue(self.gone)
		on_primary = self.case_volume_total()
		self.assertGreaterEqual(on_primary, 1)
		self.replica_on()
		on_replica = self.case_volume_total()
		self.assertEqual(on_replica, on_primary - 1)  # the case missing on the replica is not counted
		self.assertIs(frappe.local.db, frappe.local.primary_db)  # back on the primary afterwards
		self.assertTrue(frappe.db.exists("Grievance", self.gone))  # the primary still has it
		self.assertEqual(
			self.replica.scalar("select count(*) from `tabGrievance` where name = %s", self.gone), 0
		)

	def test_the_export_reads_the_replica_and_logs_on_the_primary(self):
		def make():
			doc = frappe.get_doc(
				{
					"doctype": "Comparable Export",
					"union": FEDERATION,
					"from_date": ALL_TIME["from_date"],
					"to_date": ALL_TIME["to_date"],
					"period": "Year",
					"minimum_cell_count": 1,
					"requested_by": "Administrator",
				}
			).insert(ignore_permissions=True)
			frappe.db.commit()
			return doc.name

		def total(rows):
			return sum(
				int(row["cases"] or 0)
				for row in rows
				if (row["category"], row["sector"], row["province"], row["union_level"]) == (ALL,) * 4
			)

		names = []
		try:
			names.append(make())
			on_primary = total(export.build_table(frappe.get_doc("Comparable Export", names[0])))
			self.assertGreaterEqual(on_primary, 1)
			names.append(make())
			self.replica_on()
			export.run_export(names[1])
			doc = frappe.get_doc("Comparable Export", names[1])
			self.assertEqual(doc.status, "Completed", doc.error)
			from unioncase.tests.test_comparable_export import read_csv

			self.assertEqual(total(read_csv(doc)), on_primary - 1)  # the figures came from the replica
			# the log and the files went to the primary; the replica has neither
			self.assertEqual(frappe.db.get_value("Comparable Export", names[1], "status"), "Completed")
			self.assertTrue(frappe.db.exists("File", {"file_url": doc.csv_file}))
			self.assertEqual(
				self.replica.scalar("select count(*) from `tabComparable Export` where name = %s", names[1]),
				0,
			)
			self.assertEqual(
				self.replica.scalar("select count(*) from `tabFile` where file_url = %s", doc.csv_file), 0
			)
		finally:
			self.replica_off()
			for name in names:
				for file in frappe.get_all(
					"File", filters={"attached_to_doctype": "Comparable Export", "attached_to_name": name}
				):
					frappe.delete_doc("File", file.name, force=True, ignore_permissions=True)
				frappe.delete_doc("Comparable Export", name, force=True, ignore_permissions=True)
			frappe.db.commit()
