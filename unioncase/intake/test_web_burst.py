"""A burst of reports posted at once to /lapor over real HTTP (the live test server), as many phones send
them: every report is accepted and stored once, or refused only by the per-address limit with a 429 in
the worker's language. A background queue that is full or slow (no worker serving it, as in a burst)
never refuses a report: the report is stored first and its processing waits for the inbox's backlog job.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import frappe
from frappe.utils.background_jobs import get_queue, is_job_enqueued

from unioncase.compat import IntegrationTestCase
from unioncase.intake import inbox, tracking
from unioncase.tests.hierarchy_data import ensure_hierarchy
from unioncase.tests.intake_data import CODE, WorkerBrowser, page_text, receive_report, reset_limits

BOGOR = "T PUK Bogor Satu"
PHONES, REPORTS = 8, 48
# What Frappe's enqueue refuses at (max_queued_jobs 500, plus 50 a site): the queue a burst fills up.
FULL_QUEUE = 560


def send_all(phones: list[WorkerBrowser], reports: int, lang: str = "id") -> list:
	"""Tokens fetched first (as the phones load the page), then every report sent at once."""
	tokens = [(phones[i % len(phones)], phones[i % len(phones)].form_token("/lapor")) for i in range(reports)]
	start = threading.Barrier(min(reports, 32))

	def send(i):
		phone, token = tokens[i]
		if i < 32:
			start.wait()
		return phone.report(
			token=token,
			union=BOGOR,
			lang=lang,
			description=f"Upah lembur bulan Oktober tidak dibayar untuk jalur jahit nomor {i}.",
		)

	with ThreadPoolExecutor(32) as pool:
		return list(pool.map(send, range(reports)))


def stored_for(codes: set[str]) -> list:
	frappe.db.rollback()  # what the server committed
	return frappe.get_all(
		inbox.INBOUND,
		filters={"tracking_code_hash": ["in", [tracking.code_hash(tracking.normalise(c)) for c in codes]]},
		fields=["name", "state"],
	)


class TestReportBurst(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()

	def setUp(self):
		reset_limits()
		frappe.db.set_single_value("Intake Settings", "reports_per_hour", 100_000)
		frappe.db.commit()

	def tearDown(self):
		for name in ("short", "default", "long"):
			get_queue(name).empty()
		inbox.backlog_looks()
		frappe.db.set_single_value("Intake Settings", "reports_per_hour", 0)
		frappe.db.commit()
		reset_limits()

	def fill_queue(self, jobs: int = FULL_QUEUE, name: str = inbox.QUEUE):
		"""A queue as a burst leaves it with its workers busy: by default past Frappe's refusal limit."""
		queue = get_queue(name)
		# one pipeline for them all; v15's RQ 1.15 refuses enqueue_call's pipeline= twice in one MULTI
		queue.enqueue_many([queue.prepare_data("frappe.ping") for _ in range(jobs - queue.count)])
		self.assertGreaterEqual(queue.count, jobs - 1)

	def test_a_burst_with_the_queue_full_is_accepted_and_every_report_stored_once(self):
		self.fill_queue()
		pages = send_all([WorkerBrowser() for _ in range(PHONES)], REPORTS)
		statuses = [page.status_code for page in pages]
		self.assertEqual(statuses, [200] * REPORTS, {s: statuses.count(s) for s in set(statuses)})
		codes = {CODE.search(page.text).group(1) for page in pages}
		self.assertEqual(len(codes), REPORTS, "one code per report")
		stored = stored_for(codes)
		self.assertEqual(len(stored), REPORTS, "every accepted report is stored, once")
		self.assertEqual({row.state for row in stored}, {"Received"})

		# the queue drains: the backlog job processes what the full queue could not take
		get_queue(inbox.QUEUE).empty()
		self.assertTrue(inbox.process_backlog() >= REPORTS)
		stored = stored_for(codes)
		self.assertEqual({row.state for row in stored}, {"Processed"})
		cases = frappe.get_all(
			inbox.INBOUND, filters={"name": ["in", [r.name for r in stored]]}, pluck="grievance"
		)
		self.assertEqual(len(set(cases)), REPORTS, "one case per report")

	def test_past_the_address_limit_a_burst_is_refused_with_429_in_the_workers_language(self):
		frappe.db.set_single_value("Intake Settings", "reports_per_hour", 10)
		frappe.db.commit()
		for lang, words in (("en", "Too many reports"), ("id", "Terlalu banyak laporan")):
			reset_limits()
			pages = send_all([WorkerBrowser() for _ in range(4)], 16, lang=lang)
			statuses = sorted(page.status_code for page in pages)
			self.assertEqual(statuses, [200] * 10 + [429] * 6, lang)
			refused = [page for page in pages if page.status_code == 429]
			for page in refused:
				self.assertIn(words, page_text(page))
				self.assertIn("Upah lembur bulan Oktober", page_text(page), "what was typed is kept")
			codes = {CODE.search(page.text).group(1) for page in pages if page.status_code == 200}
			self.assertEqual(len(stored_for(codes)), 10, "every accepted report is stored")

	def test_in_a_burst_the_backlog_job_is_asked_for_once_and_a_lost_one_again_within_a_minute(self):
		queue = get_queue(inbox.QUEUE)
		self.fill_queue(inbox.BACKLOG_AT + 10)  # busy workers: past the backlog's start, below Frappe's limit
		inbox.backlog_looks()
		receive_report(frappe.generate_hash(), BOGOR)
		self.assertTrue(is_job_enqueued(inbox.BACKLOG_JOB), "the first message past the limit asks for it")
		ttl = queue.connection.ttl(inbox.backlog_flag_key())
		self.assertTrue(0 < ttl <= inbox.BACKLOG_FLAG_SECONDS, ttl)
		backlog = get_queue(inbox.BACKLOG_QUEUE)
		counts = (queue.count, backlog.count)
		for _ in range(5):
			receive_report(frappe.generate_hash(), BOGOR)
		self.assertEqual(
			(queue.count, backlog.count), counts, "while it is wanted, new messages queue nothing more"
		)

		# the backlog job is lost (queue emptied by hand, a worker gone) and the raised flag lapses
		queue.empty()
		backlog.empty()
		self.fill_queue(inbox.BACKLOG_AT + 10)
		self.assertFalse(is_job_enqueued(inbox.BACKLOG_JOB))
		inbox.backlog_looks()
		name, _created = receive_report(frappe.generate_hash(), BOGOR)
		self.assertTrue(is_job_enqueued(inbox.BACKLOG_JOB), "the next message asks for it again")
		self.assertEqual(frappe.db.get_value(inbox.INBOUND, name, "state"), "Received")

	def test_the_backlog_job_makes_way_for_the_notices_its_cases_queue_and_its_successor_carries_on(self):
		names = [receive_report(frappe.generate_hash(), BOGOR)[0] for _ in range(3)]
		for name in ("short", "default", "long"):
			get_queue(name).empty()
		inbox.backlog_looks()
		self.fill_queue(inbox.BACKLOG_YIELD_AT, "default")
		notices = get_queue("default")

		self.assertEqual(inbox.process_backlog(batch=2), 2, "one batch, then it makes way")
		successors = get_queue(inbox.BACKLOG_QUEUE).jobs
		self.assertEqual(
			[job.kwargs.get("method") for job in successors], ["unioncase.intake.inbox.process_backlog"]
		)
		self.assertTrue(inbox.backlog_wanted(), "new messages wait for the successor")

		notices.empty()  # the worker ran the notices
		inbox.process_backlog(batch=2)  # the successor
		frappe.db.rollback()
		states = frappe.get_all(inbox.INBOUND, filters={"name": ["in", names]}, pluck="state")
		self.assertEqual(states, ["Processed"] * 3)
