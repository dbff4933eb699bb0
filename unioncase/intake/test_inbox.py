"""The inbox: every message stored before it is processed, once per delivery, processed by its job,
failures kept and retried with backoff, scoped to the union it belongs to."""

import frappe
from frappe.utils import add_to_date, now_datetime
from frappe.utils.background_jobs import is_job_enqueued

from unioncase.compat import IntegrationTestCase
from unioncase.intake import inbox
from unioncase.tests.hierarchy_data import ensure_hierarchy, make_official
from unioncase.tests.intake_data import receive_report
from unioncase.tests.rest_client import RestSession

BOGOR = "T PUK Bogor Satu"
RIAU = "T PUK Riau Satu"
ADMIN = "t.admin@test.unioncase.org"
BOGOR_BRANCH = "t.branch.bogor@test.unioncase.org"
RIAU_BRANCH = "t.branch.riau@test.unioncase.org"


def set_default_union(union: str | None):
	frappe.db.set_single_value("Intake Settings", "default_union", union)
	frappe.db.commit()


class TestInbox(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		make_official(ADMIN, "Union Administrator", None)

	def tearDown(self):
		frappe.set_user("Administrator")
		set_default_union(None)

	def test_a_message_is_stored_raw_before_processing_then_its_job_makes_the_case(self):
		# no worker runs beside the tests: jobs other tests queued would send this message to the backlog
		frappe.utils.background_jobs.get_queue(inbox.QUEUE).empty()
		key = frappe.generate_hash()
		name, created = receive_report(key, BOGOR, description="Gaji dipotong tanpa alasan sejak Juli lalu.")
		self.assertTrue(created)
		stored = frappe.get_doc(inbox.INBOUND, name)
		self.assertEqual((stored.state, stored.channel, stored.dedup_key), ("Received", "Web", f"web:{key}"))
		self.assertNotIn("Gaji dipotong", stored.payload, "the raw payload is stored encrypted")
		self.assertEqual(
			inbox.payload_of(stored)["description"], "Gaji dipotong tanpa alasan sejak Juli lalu."
		)
		self.assertTrue(is_job_enqueued(inbox.job_id(name)), "processing is queued, not run in the request")

		self.assertEqual(inbox.process_message(name), "Processed")
		stored.reload()
		case = frappe.get_doc("Grievance", stored.grievance)
		self.assertEqual((case.owning_union, case.channel, case.is_anonymous), (BOGOR, "Web", 1))
		self.assertIn("Gaji dipotong tanpa alasan", case.description)
		self.assertEqual(stored.union, BOGOR)
		self.assertEqual(stored.attempts, 1)
		conversation = frappe.get_all(
			"Case Message", filters={"grievance": case.name}, fields=["direction", "channel"]
		)
		self.assertEqual(conversation, [{"direction": "From Worker", "channel": "Web"}])
		# a job that runs twice (a retry racing a late worker) does not make a second case
		self.assertEqual(inbox.process_message(name), "Processed")
		self.assertEqual(frappe.db.count("Grievance", {"name": case.name}), 1)
		self.assertEqual(frappe.db.count(inbox.INBOUND, {"grievance": case.name}), 1)

	def test_the_same_delivery_is_stored_once(self):
		key = frappe.generate_hash()
		first, created_first = receive_report(key, BOGOR)
		second, created_second = receive_report(key, BOGOR)
		self.assertEqual((first, created_first, created_second), (second, True, False))
		self.assertEqual(frappe.db.count(inbox.INBOUND, {"dedup_key": f"web:{key}"}), 1)
		# the same key on another channel is another delivery
		other, created_other = inbox.receive("Email", key, {"raw": "x"}, union=BOGOR)
		self.assertTrue(created_other)
		self.assertNotEqual(other, first)

	def test_a_repeated_delivery_keeps_what_its_transaction_wrote_before(self):
		# a mail fetch stores several messages in one transaction: a repeat among them undoes nothing else
		key = frappe.generate_hash()
		receive_report(key, BOGOR)
		note = frappe.generate_hash()
		frappe.db.set_single_value("Intake Settings", "default_union", RIAU)
		frappe.get_doc({"doctype": "ToDo", "description": note}).insert(ignore_permissions=True)
		try:
			again, created = receive_report(key, BOGOR)
			self.assertFalse(created)
			self.assertEqual(frappe.db.get_value(inbox.INBOUND, {"dedup_key": f"web:{key}"}), again)
			frappe.db.commit()
			self.assertEqual(frappe.db.count("ToDo", {"description": note}), 1)
			self.assertEqual(frappe.db.get_single_value("Intake Settings", "default_union"), RIAU)
		finally:
			frappe.db.delete("ToDo", {"description": note})
			frappe.db.commit()

	def test_a_message_is_stored_and_accepted_while_the_queues_redis_is_unreachable(self):
		from redis import Redis
		from rq import Queue

		key = (frappe.local.site, inbox.QUEUE)
		kept = inbox.queue_handle(inbox.QUEUE)
		# a queue whose Redis is down: nothing listens on port 1 of loopback
		inbox._queues[key] = Queue(kept.name, connection=Redis(port=1, socket_connect_timeout=1))
		try:
			name, created = receive_report(frappe.generate_hash(), BOGOR)
		finally:
			inbox._queues[key] = kept
		self.assertTrue(created)
		frappe.db.rollback()
		self.assertEqual(frappe.db.get_value(inbox.INBOUND, name, "state"), "Received")

	def test_a_failure_is_kept_and_retried_with_backoff_until_an_admin_must_retry(self):
		set_default_union(None)
		name, _created = receive_report(frappe.generate_hash(), None)  # no union from the form link
		before = now_datetime()
		self.assertEqual(inbox.process_message(name), "Failed")
		failed = frappe.get_doc(inbox.INBOUND, name)
		self.assertEqual((failed.state, failed.attempts), ("Failed", 1))
		self.assertIn("Default Intake Union", failed.error)
		self.assertGreaterEqual(failed.next_attempt_on, add_to_date(before, seconds=55))
		self.assertLessEqual(failed.next_attempt_on, add_to_date(now_datetime(), minutes=1, seconds=5))
		self.assertFalse(
			frappe.db.exists(
				"Grievance", {"received_on": failed.received_on, "channel": "Web", "owning_union": None}
			)
		)
		self.assertTrue(
			frappe.db.exists("Error Log", {"reference_doctype": inbox.INBOUND, "reference_name": name})
		)

		frappe.utils.background_jobs.get_queue(inbox.QUEUE).empty()
		self.assertNotIn(name, inbox.retry_due_messages(), "not retried before its backoff has passed")
		frappe.db.set_value(inbox.INBOUND, name, "next_attempt_on", add_to_date(now_datetime(), minutes=-1))
		self.assertIn(name, inbox.retry_due_messages())
		self.assertTrue(is_job_enqueued(inbox.job_id(name)))

		for attempt in range(2, len(inbox.BACKOFF_MINUTES) + 2):
			self.assertEqual(inbox.process_message(name), "Failed")
			self.assertEqual(frappe.db.get_value(inbox.INBOUND, name, "attempts"), attempt)
		gave_up = frappe.get_doc(inbox.INBOUND, name)
		self.assertIsNone(gave_up.next_attempt_on, "after the last backoff it waits for an admin")
		self.assertIn("administrator can retry", gave_up.state_reason)
		self.assertNotIn(name, inbox.retry_due_messages(), "a message given up on waits for an admin")

		set_default_union(BOGOR)
		self.assertEqual(inbox.process_message(name), "Processed")
		self.assertEqual(frappe.db.get_value("Grievance", gave_up.reload().grievance, "owning_union"), BOGOR)

	def test_a_message_whose_job_was_lost_is_queued_again(self):
		name, _created = receive_report(frappe.generate_hash(), BOGOR)
		frappe.utils.background_jobs.get_queue(inbox.QUEUE).empty()
		self.assertNotIn(name, inbox.retry_due_messages())
		frappe.db.set_value(inbox.INBOUND, name, "received_on", add_to_date(now_datetime(), minutes=-11))
		self.assertIn(name, inbox.retry_due_messages())
		self.assertTrue(is_job_enqueued(inbox.job_id(name)))

	def test_admins_retry_a_failed_message_and_officials_cannot(self):
		name, _created = receive_report(frappe.generate_hash(), None)
		inbox.process_message(name)
		frappe.utils.background_jobs.get_queue(inbox.QUEUE).empty()
		official = RestSession(BOGOR_BRANCH).post("/api/method/unioncase.intake.inbox.retry", name=name)
		self.assertEqual(official.status_code, 403, official.text[:300])
		self.assertFalse(is_job_enqueued(inbox.job_id(name)))
		admin = RestSession(ADMIN).post("/api/method/unioncase.intake.inbox.retry", name=name)
		self.assertEqual(admin.status_code, 200, admin.text[:300])
		self.assertTrue(is_job_enqueued(inbox.job_id(name)))
		processed, _ = receive_report(frappe.generate_hash(), BOGOR)
		inbox.process_message(processed)
		refused = RestSession(ADMIN).post("/api/method/unioncase.intake.inbox.retry", name=processed)
		self.assertEqual(refused.status_code, 417, refused.text[:300])
		self.assertIn("Only a failed or waiting message can be retried", refused.text)

	def test_officials_see_only_their_unions_messages_and_nobody_reads_the_raw_payload(self):
		bogor, _ = receive_report(frappe.generate_hash(), BOGOR)
		riau, _ = receive_report(frappe.generate_hash(), RIAU)
		processed_riau, _ = receive_report(frappe.generate_hash(), RIAU)
		inbox.process_message(processed_riau)
		fields = '["name","state","union","payload","tracking_code_hash"]'
		for user, visible, hidden in (
			(BOGOR_BRANCH, {bogor}, {riau, processed_riau}),
			(RIAU_BRANCH, {riau, processed_riau}, {bogor}),
			(ADMIN, {bogor, riau, processed_riau}, set()),
		):
			session = RestSession(user)
			listed = session.get("/api/resource/Inbound Message", fields=fields, limit_page_length=0)
			self.assertEqual(listed.status_code, 200, listed.text[:300])
			names = {row["name"] for row in listed.json()["data"]}
			self.assertTrue(visible <= names, (user, visible - names))
			self.assertFalse(hidden & names, (user, hidden & names))
			for row in listed.json()["data"]:
				self.assertNotIn("payload", row)
				self.assertNotIn("tracking_code_hash", row)
			for name in visible:
				document = session.get(f"/api/resource/Inbound Message/{name}")
				self.assertEqual(document.status_code, 200, document.text[:300])
				self.assertNotIn("payload", document.json()["data"])
				self.assertNotIn("tracking_code_hash", document.json()["data"])
			for name in hidden:
				self.assertEqual(session.get(f"/api/resource/Inbound Message/{name}").status_code, 403)

	def test_the_number_card_counts_failed_messages(self):
		from frappe.desk.doctype.number_card.number_card import get_result

		card = frappe.get_doc("Number Card", "Failed Inbound Messages")
		before = get_result(card.as_dict(), None)
		name, _created = receive_report(frappe.generate_hash(), None)
		inbox.process_message(name)
		self.assertEqual(get_result(card.as_dict(), None), before + 1)
