"""The processes the embedded default runs: the web server users reach, the scheduler and the worker."""

import os
import subprocess
import sys
import time
import unittest
from datetime import timedelta
from pathlib import Path

import frappe
import requests
import werkzeug.debug
from frappe.utils import now_datetime

SITE_DIR = Path(frappe.utils.get_bench_path())
DEBUGGER_CSS = Path(werkzeug.debug.__file__).with_name("shared") / "style.css"
OVERDUE_JOB = "unioncase.workflows.overdue.flag_overdue_cases"
# The scheduler ticks every second here, so a due job is queued within a second or two.
SCHEDULER_TICK = "1"
JOB_DEADLINE = 90


def server_url() -> str:
	return os.environ["UNIONCASE_TEST_SERVER"]


class TestWebServer(unittest.TestCase):
	def test_the_web_server_is_gunicorn_without_the_debugger(self):
		ping = requests.get(f"{server_url()}/api/method/ping", timeout=10)
		self.assertEqual((ping.status_code, ping.json()), (200, {"message": "pong"}))
		self.assertEqual(ping.headers.get("Server", "").split("/")[0], "gunicorn")

		debugger = requests.get(
			f"{server_url()}/",
			params={"__debugger__": "yes", "cmd": "resource", "f": "style.css"},
			timeout=10,
		)
		self.assertNotEqual(debugger.status_code, 200)
		self.assertNotIn("text/css", debugger.headers.get("Content-Type", ""))
		self.assertNotIn(DEBUGGER_CSS.read_text()[:200], debugger.text)
		self.assertNotIn("Werkzeug", debugger.text)


class TestScheduler(unittest.TestCase):
	"""`monoframe schedule` and `monoframe worker`, as setup.sh starts them, run a due job to completion."""

	def setUp(self):
		frappe.set_user("Administrator")
		self.job_type = frappe.db.get_value("Scheduled Job Type", {"method": OVERDUE_JOB})
		self.assertTrue(self.job_type, "the overdue job is registered from hooks.py")
		# Only the job under test may run: the others would touch the test site's data.
		self.stopped_before = frappe.get_all("Scheduled Job Type", {"stopped": 1}, pluck="name")
		frappe.db.set_value("Scheduled Job Type", {"name": ("!=", self.job_type)}, "stopped", 1)
		frappe.db.set_value(
			"Scheduled Job Type",
			self.job_type,
			{"stopped": 0, "create_log": 1, "last_execution": now_datetime() - timedelta(hours=1)},
			update_modified=False,
		)
		frappe.db.delete("Scheduled Job Log", {"scheduled_job_type": self.job_type})
		frappe.db.set_single_value("System Settings", "enable_scheduler", 1)
		frappe.db.commit()
		from frappe.utils.background_jobs import get_queues

		for queue in get_queues():
			queue.empty()
		self.processes = []

	def tearDown(self):
		for process in self.processes:
			process.terminate()
		for process in self.processes:
			try:
				process.wait(timeout=20)
			except subprocess.TimeoutExpired:
				process.kill()
		frappe.db.set_value("Scheduled Job Type", {"name": ("not in", self.stopped_before)}, "stopped", 0)
		frappe.db.commit()

	def start(self, command: str) -> subprocess.Popen:
		log = open(SITE_DIR.parent / "logs" / f"test-{command}.log", "w")
		process = subprocess.Popen(
			[Path(sys.executable).with_name("monoframe"), command],
			cwd=SITE_DIR,
			env={**os.environ, "SCHEDULER_TICK_INTERVAL": SCHEDULER_TICK},
			stdout=log,
			stderr=subprocess.STDOUT,
			start_new_session=True,
		)
		self.processes.append(process)
		return process

	def test_a_due_job_runs_through_the_scheduler_and_the_worker(self):
		scheduler = self.start("schedule")
		self.start("worker")
		deadline = time.monotonic() + JOB_DEADLINE
		status = None
		while time.monotonic() < deadline and status != "Complete":
			self.assertIsNone(scheduler.poll(), "the scheduler process exited")
			time.sleep(1)
			frappe.db.rollback()  # read what the worker committed
			status = frappe.db.get_value("Scheduled Job Log", {"scheduled_job_type": self.job_type}, "status")
		self.assertEqual(status, "Complete")
		self.assertGreater(
			frappe.db.get_value("Scheduled Job Type", self.job_type, "last_execution"),
			now_datetime() - timedelta(minutes=5),
		)
		self.assertIsNone(scheduler.poll(), "the scheduler keeps ticking after the job")
