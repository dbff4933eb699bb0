"""The comparable export: figures, suppression, scope, files and the log, in-process and by the worker."""

import csv
import io
import subprocess
import time
from unittest.mock import patch

import frappe
from openpyxl import load_workbook

from unioncase.compat import IntegrationTestCase, worker_command
from unioncase.reports import export
from unioncase.tests.analytics_data import AnalyticsTestCase, ensure_analytics_data, register_cleanup
from unioncase.tests.hierarchy_data import ensure_hierarchy

ALL = "All"


def read_csv(doc) -> list[dict]:
	file = frappe.get_doc("File", {"file_url": doc.csv_file})
	return list(csv.DictReader(io.StringIO(text_of(file))))


def text_of(file) -> str:
	content = file.get_content()
	return content if isinstance(content, str) else content.decode("utf-8")


class TestComparableExport(AnalyticsTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def build(self, union, from_date, to_date, threshold=3, user="Administrator"):
		frappe.set_user(user)
		doc = frappe.get_doc(
			{
				"doctype": "Comparable Export",
				"union": union,
				"from_date": from_date,
				"to_date": to_date,
				"period": "Quarter",
				"minimum_cell_count": threshold,
				"requested_by": user,
			}
		).insert(ignore_permissions=True)
		frappe.set_user("Administrator")
		return {
			tuple(row[k] for k in ("period", "category", "sector", "province", "union_level")): row
			for row in export.build_table(doc)
		}

	def test_figures_and_suppression_on_the_known_dataset(self):
		rows = self.build("A Konfederasi", "2026-04-01", "2026-09-30", threshold=3)
		# Q2: c1 and c2, both A Upah, A Garmen, A Jawa Barat, Workplace Union: 2 < 3, all of it withheld
		q2 = {key: row for key, row in rows.items() if key[0] == "2026-Q2"}
		self.assertTrue(q2)
		self.assertTrue(all(row["suppressed"] == "Yes" and row["cases"] is None for row in q2.values()))
		# Q3: c3, c4 (Banten), c5, c6 (Jawa Tengah): 4 cases; A Cabang Satu alone has 2 of them, so the
		# total differs from that branch's export by 2 < 3 and is withheld too
		total = rows[("2026-Q3", ALL, ALL, ALL, ALL)]
		self.assertEqual(total["suppressed"], "Yes")
		for row in rows.values():
			if row["suppressed"] != "Yes":
				self.assertGreaterEqual(row["cases"], 3)
		# without a threshold every figure is published, and exact (hand-counted from analytics_data)
		rows = self.build("A Konfederasi", "2026-07-01", "2026-09-30", threshold=1)
		figures = {key: row["cases"] for key, row in rows.items()}
		self.assertEqual(figures[("2026-Q3", ALL, ALL, ALL, ALL)], 4)
		self.assertEqual(figures[("2026-Q3", ALL, ALL, "A Banten", ALL)], 2)
		self.assertEqual(figures[("2026-Q3", ALL, ALL, "A Jawa Tengah", ALL)], 2)
		self.assertEqual(figures[("2026-Q3", "A Upah", ALL, ALL, ALL)], 2)  # c4 (A Lembur) and c6
		self.assertEqual(figures[("2026-Q3", "A K3", "A Garmen", "A Banten", "Workplace Union")], 1)
		# threshold 2: four cells of 1 behind margins of 2 would each be pinned to 1, so all is withheld
		rows = self.build("A Konfederasi", "2026-07-01", "2026-09-30", threshold=2)
		self.assertTrue(all(row["suppressed"] == "Yes" for row in rows.values()))

	def test_overlapping_ranges_publish_the_same_blocks(self):
		both = self.build("A Konfederasi", "2026-04-01", "2026-09-30", threshold=2)
		third = self.build("A Konfederasi", "2026-07-01", "2026-09-30", threshold=2)
		self.assertEqual({k: v for k, v in both.items() if k[0] == "2026-Q3"}, third)

	def test_start_export_scope_and_bad_input(self):
		frappe.set_user("a.branch.satu@test.unioncase.org")
		with patch.object(frappe, "enqueue"):
			name = export.start_export(from_date="2026-05-10", to_date="2026-08-02")
		doc = frappe.get_doc("Comparable Export", name)
		# the official's own branch; whole quarters
		self.assertEqual(
			(doc.union, str(doc.from_date), str(doc.to_date)), ("A Cabang Satu", "2026-04-01", "2026-09-30")
		)
		self.assertEqual((doc.status, doc.requested_by), ("Queued", "a.branch.satu@test.unioncase.org"))
		with self.assertRaises(frappe.PermissionError), patch.object(frappe, "enqueue"):
			export.start_export(union="A Cabang Dua")
		with self.assertRaises(frappe.ValidationError), patch.object(frappe, "enqueue"):
			export.start_export(from_date="yesterday")
		frappe.set_user("t.researcher.unattached@test.unioncase.org")
		with self.assertRaises(frappe.PermissionError), patch.object(frappe, "enqueue"):
			export.start_export(union="A Konfederasi")

	def test_the_job_writes_private_files_with_a_data_dictionary_and_logs_itself(self):
		frappe.set_user("a.federation@test.unioncase.org")
		with patch.object(frappe, "enqueue"):
			name = export.start_export(from_date="2026-04-01", to_date="2026-09-30")
		frappe.set_user("Administrator")
		with patch.object(frappe.db, "commit"):  # keep the fixture's transaction
			export.run_export(name)
		doc = frappe.get_doc("Comparable Export", name)
		self.assertEqual(doc.status, "Completed", doc.error)
		rows = read_csv(doc)
		self.assertEqual(len(rows), doc.entries_published + doc.entries_suppressed)
		self.assertGreater(doc.entries_suppressed, 0)
		self.assertEqual(list(rows[0]), list(export.COLUMNS))
		for row in rows:
			self.assertTrue(row["suppressed"] == "Yes" or int(row["cases"]) >= doc.minimum_cell_count)
		for url in (doc.csv_file, doc.xlsx_file):
			file = frappe.get_doc("File", {"file_url": url})
			self.assertEqual((file.is_private, file.attached_to_name), (1, name))
		book = load_workbook(io.BytesIO(frappe.get_doc("File", {"file_url": doc.xlsx_file}).get_content()))
		self.assertEqual(book.sheetnames, ["Data", "Data Dictionary"])
		described = {row[0] for row in book["Data Dictionary"].iter_rows(values_only=True) if row and row[0]}
		self.assertLessEqual(set(export.COLUMNS), described)
		text = text_of(frappe.get_doc("File", {"file_url": doc.csv_file}))
		self.assertNotIn("A analytics case", text)  # no case text, no names: aggregates only
		# the requester reads their export; another branch's official does not
		self.assertTrue(
			frappe.has_permission("Comparable Export", doc=name, user="a.federation@test.unioncase.org")
		)
		self.assertFalse(
			frappe.has_permission("Comparable Export", doc=name, user="a.branch.dua@test.unioncase.org")
		)


class TestComparableExportWorker(IntegrationTestCase):
	"""The real RQ worker runs the queued job on committed data (the shared test tree)."""

	def test_the_worker_runs_the_export(self):
		ensure_hierarchy()
		frappe.set_user("t.federation.garmen@test.unioncase.org")
		name = export.start_export()
		frappe.set_user("Administrator")
		frappe.db.commit()  # enqueues after commit
		try:
			command, folder = worker_command("long")
			subprocess.run(command, cwd=folder, timeout=300, check=True, capture_output=True)
			for _attempt in range(20):
				frappe.db.rollback()
				doc = frappe.get_doc("Comparable Export", name)
				if doc.status in ("Completed", "Failed"):
					break
				time.sleep(0.5)
			self.assertEqual(doc.status, "Completed", doc.error)
			self.assertEqual(doc.union, "T Federasi Garmen")
			self.assertTrue(doc.csv_file and doc.xlsx_file and doc.finished_on)
			rows = read_csv(doc)
			self.assertEqual(len(rows), doc.entries_published + doc.entries_suppressed)
		finally:
			for file in frappe.get_all(
				"File",
				filters={"attached_to_doctype": "Comparable Export", "attached_to_name": name},
				pluck="name",
			):
				frappe.delete_doc("File", file, force=True, ignore_permissions=True)
			frappe.delete_doc("Comparable Export", name, force=True, ignore_permissions=True)
			frappe.db.commit()
