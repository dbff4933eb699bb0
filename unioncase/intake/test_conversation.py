"""The officials' side of the case conversation, over REST as the Reply dialog calls it: a reply is
queued, delivered through Frappe's email queue to the worker (an SMTP sink on loopback), retried with
backoff when delivery fails, refused outside the official's scope, and never shows who the worker is."""

import frappe
from frappe.utils import add_to_date, now_datetime
from frappe.utils.background_jobs import get_queue, is_job_enqueued

from unioncase.compat import IntegrationTestCase
from unioncase.intake import conversation, handle, inbox
from unioncase.tests.hierarchy_data import ensure_hierarchy
from unioncase.tests.intake_data import receive_report
from unioncase.tests.mail_data import MAILBOX_ADDRESS, IntakeMailbox, break_address, mail, restore_address
from unioncase.tests.rest_client import RestSession

BOGOR = "T PUK Bogor Satu"
BOGOR_BRANCH = "t.branch.bogor@test.unioncase.org"
RIAU_BRANCH = "t.branch.riau@test.unioncase.org"
CONVERSATION = "/api/method/unioncase.intake.conversation.get_conversation"
REPLY = "/api/method/unioncase.intake.conversation.reply"


class TestConversation(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		cls.box = IntakeMailbox(BOGOR)

	@classmethod
	def tearDownClass(cls):
		cls.box.stop()
		super().tearDownClass()

	def tearDown(self):
		frappe.set_user("Administrator")

	def case_by_mail(self) -> tuple[str, str]:
		"""A worker's mailed report, pulled and processed: (case, the worker's address)."""
		address = f"pekerja.{frappe.generate_hash(length=8)}@pekerja.test"
		self.box.deliver(mail(address, "Kontrak diputus", "Kontrak saya diputus sepihak minggu lalu."))
		(name,) = self.box.pull()
		self.box.send_queued()  # the acknowledgement
		return frappe.db.get_value(inbox.INBOUND, name, "grievance"), address

	def case_by_web(self) -> str:
		name, _created = receive_report(frappe.generate_hash(), BOGOR)
		inbox.process_message(name)
		return frappe.db.get_value(inbox.INBOUND, name, "grievance")

	def test_the_dialog_offers_the_workers_last_channel_and_a_reply_is_queued(self):
		case, address = self.case_by_mail()
		official = RestSession(BOGOR_BRANCH)
		answer = official.get(CONVERSATION, case=case)
		self.assertEqual(answer.status_code, 200, answer.text)
		conversation_ = answer.json()["message"]
		self.assertEqual(conversation_["channels"], ["Tracking Page", "Email"])
		self.assertEqual(conversation_["default_channel"], "Email", "the worker last wrote by email")
		self.assertEqual([m["direction"] for m in conversation_["messages"]], ["From Worker"])

		get_queue("short").empty()
		sent = official.post(REPLY, case=case, message="Kami sudah menghubungi HRD.")
		self.assertEqual(sent.status_code, 200, sent.text)
		queued = sent.json()["message"]
		self.assertEqual((queued["channel"], queued["delivery_status"]), ("Email", "Queued"))
		frappe.db.rollback()  # see what the web server committed
		row = frappe.get_doc("Case Message", queued["name"])
		self.assertEqual((row.direction, row.sent_by, row.grievance), ("To Worker", BOGOR_BRANCH, case))
		self.assertTrue(is_job_enqueued(conversation.delivery_job_id(row.name)), "delivered by a job")
		self.assertEqual(self.box.sent_to(address)[1:], [], "nothing is sent in the request")

		# a case reported on the web page is answered on the tracking page, at once
		web_case = self.case_by_web()
		web = official.get(CONVERSATION, case=web_case).json()["message"]
		self.assertEqual((web["channels"], web["default_channel"]), (["Tracking Page"], "Tracking Page"))
		on_page = official.post(REPLY, case=web_case, message="Silakan datang ke sekretariat.").json()
		self.assertEqual(on_page["message"]["delivery_status"], "Sent")
		refused = official.post(REPLY, case=web_case, message="x", channel="Email")
		self.assertEqual(refused.status_code, 417)
		self.assertIn("cannot be reached by Email", refused.text)
		empty = official.post(REPLY, case=web_case, message="   ")
		self.assertEqual(empty.status_code, 417)
		frappe.db.rollback()
		self.assertEqual(
			frappe.db.count("Case Message", {"grievance": web_case, "direction": "To Worker"}), 1
		)

	def test_a_queued_reply_is_delivered_by_email_from_the_unions_mailbox_and_answers_thread_back(self):
		case, address = self.case_by_mail()
		queued = RestSession(BOGOR_BRANCH).post(REPLY, case=case, message="Besok kami temui pengawas.")
		name = queued.json()["message"]["name"]
		self.assertEqual(conversation.deliver(name), "Sent")
		self.assertEqual(frappe.db.get_value("Case Message", name, "delivery_status"), "Sent")
		self.box.send_queued()
		delivered = self.box.sent_to(address)
		self.assertEqual(len(delivered), 2, "the acknowledgement, then the reply")
		reply = delivered[-1]
		self.assertEqual(reply["From"], MAILBOX_ADDRESS)
		self.assertIn("Besok kami temui pengawas.", reply.get_body(("html",)).get_content())
		self.assertEqual(conversation.deliver(name), "Sent", "a second run sends nothing more")
		self.box.send_queued()
		self.assertEqual(len(self.box.sent_to(address)), 2)

		self.box.deliver(
			mail(address, f"Re: {reply['Subject']}", "Baik, terima kasih.", In_Reply_To=reply["Message-Id"])
		)
		(answer,) = self.box.pull()
		self.assertEqual(frappe.db.get_value(inbox.INBOUND, answer, "grievance"), case)
		timeline = frappe.get_all(
			"Case Message", filters={"grievance": case}, pluck="direction", order_by="creation asc"
		)
		self.assertEqual(timeline, ["From Worker", "To Worker", "From Worker"])

	def test_a_failed_delivery_is_kept_and_retried_with_backoff(self):
		case, address = self.case_by_mail()
		frappe.set_user("Administrator")
		name = conversation.reply(case, "Mohon kirim salinan kontrak.", "Email")["name"]
		contact = handle.for_case(case).name
		kept = break_address(contact)
		before = now_datetime()
		self.assertEqual(conversation.deliver(name), "Failed")
		failed = frappe.get_doc("Case Message", name)
		self.assertEqual((failed.delivery_status, failed.attempts), ("Failed", 1))
		self.assertGreaterEqual(failed.next_attempt_on, add_to_date(before, seconds=55))
		self.assertNotIn(address, failed.error or "")
		get_queue("short").empty()
		self.assertNotIn(name, conversation.retry_due_deliveries(), "not before its backoff has passed")
		frappe.db.set_value("Case Message", name, "next_attempt_on", add_to_date(now_datetime(), minutes=-1))
		self.assertIn(name, conversation.retry_due_deliveries())
		self.assertTrue(is_job_enqueued(conversation.delivery_job_id(name)))
		self.assertEqual(conversation.deliver(name), "Failed")
		self.assertEqual(frappe.db.get_value("Case Message", name, "attempts"), 2)

		restore_address(contact, kept)
		self.assertEqual(conversation.deliver(name), "Sent")
		self.box.send_queued()
		self.assertIn(
			"Mohon kirim salinan kontrak.", self.box.sent_to(address)[-1].get_body(("html",)).get_content()
		)

	def test_an_official_outside_the_scope_can_neither_read_nor_reply(self):
		case, _address = self.case_by_mail()
		outsider = RestSession(RIAU_BRANCH)
		self.assertEqual(outsider.get(CONVERSATION, case=case).status_code, 403)
		refused = outsider.post(REPLY, case=case, message="Saya dari cabang lain.")
		self.assertEqual(refused.status_code, 403)
		self.assertEqual(frappe.db.count("Case Message", {"grievance": case, "direction": "To Worker"}), 0)
		listed = outsider.get("/api/resource/Case Message", filters=[["grievance", "=", case]])
		self.assertEqual((listed.status_code, listed.json()["data"]), (200, []))

	def test_no_answer_an_official_gets_shows_the_workers_address(self):
		case, address = self.case_by_mail()
		official = RestSession(BOGOR_BRANCH)
		name = official.post(REPLY, case=case, message="Kami catat.").json()["message"]["name"]
		conversation.deliver(name)
		local = address.split("@")[0]
		for path, params in (
			(CONVERSATION, {"case": case}),
			(f"/api/resource/Grievance/{case}", {}),
			(f"/api/resource/Case Message/{name}", {}),
			("/api/resource/Case Message", {"filters": [["grievance", "=", case]], "fields": ["*"]}),
			("/api/resource/Inbound Message", {"filters": [["grievance", "=", case]], "fields": ["*"]}),
			("/api/method/frappe.desk.form.load.getdoc", {"doctype": "Grievance", "name": case}),
			("/api/resource/Communication", {"fields": ["*"], "limit_page_length": 0}),
			("/api/resource/Contact Handle", {"fields": ["*"]}),
		):
			answer = official.get(path, **params)
			self.assertIn(answer.status_code, (200, 403), f"{path}: {answer.text[:300]}")
			self.assertNotIn(local, answer.text, f"{path} shows the worker's address")
		self.assertEqual(official.get("/api/resource/Contact Handle", fields=["*"]).status_code, 403)
