"""pytest harness for the monoframe runtime: what `bench run-tests` does on a real bench.

Connects the test process to the site prepared by scripts/test.sh (sites/test) and starts that
site's web server on loopback for the tests that exercise REST, exporting its address as
UNIONCASE_TEST_SERVER. It is the production server `scripts/setup.sh` starts (gunicorn, see
`monoframe_compat.site.web_command`), so the tests see what users see.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from monoframe_compat.site import ensure_database_user, enter_site, read_env, web_command

SITE_DIR = Path(__file__).resolve().parent / "sites" / "test"
_server: subprocess.Popen | None = None


def pytest_configure(config):
	global _server
	if not (SITE_DIR / ".env").exists():
		sys.exit("No test site: run scripts/test.sh, which prepares sites/test before pytest.")
	enter_site(SITE_DIR)
	ensure_database_user(read_env(SITE_DIR))  # another checkout may have prepared the same database
	port = read_env(SITE_DIR)["SERVER_PORT"]
	url = f"http://127.0.0.1:{port}"
	with socket.socket() as probe:
		if probe.connect_ex(("127.0.0.1", int(port))) == 0:
			sys.exit(f"Port {port} is taken: the REST tests would reach another server. Stop it first.")
	_server = subprocess.Popen(
		web_command(SITE_DIR),
		cwd=SITE_DIR,
		stdout=open(SITE_DIR.parent / "logs" / "test-web.log", "w"),
		stderr=subprocess.STDOUT,
		start_new_session=True,
	)
	os.environ["UNIONCASE_TEST_SERVER"] = url

	import frappe

	frappe.init()
	frappe.connect()
	frappe.flags.in_test = True
	frappe.clear_cache()  # hooks and metadata as the code on disk has them now
	empty_job_queues()
	frappe.set_user("Administrator")
	for _ in range(300):  # gunicorn preloads the app before it listens
		if _server.poll() is not None:
			sys.exit(f"The test site's web server exited; see {SITE_DIR.parent / 'logs' / 'test-web.log'}")
		try:
			urllib.request.urlopen(f"{url}/api/method/ping", timeout=1)
			break
		except OSError as error:
			if getattr(error, "code", None):  # answered, even if with an HTTP error
				break
			time.sleep(0.1)


@pytest.fixture(autouse=True)
def no_jobs_left_by_earlier_tests():
	"""No worker serves the test site, so jobs pile up from test to test: each test starts on empty job
	queues (a full queue refuses jobs, and the inbox hands a message to its backlog job, not a job of its
	own, once ten jobs wait)."""
	empty_job_queues()


def empty_job_queues():
	"""Drop jobs earlier runs queued: no worker serves the test site, and a full queue refuses new jobs."""
	from frappe.utils.background_jobs import get_queues

	for queue in get_queues():
		queue.empty()


def pytest_unconfigure(config):
	if _server:
		_server.terminate()  # gunicorn's master stops its workers
		try:
			_server.wait(timeout=30)
		except subprocess.TimeoutExpired:
			os.killpg(_server.pid, signal.SIGKILL)
	import frappe

	if getattr(frappe.local, "db", None):
		frappe.db.rollback()
		frappe.destroy()
