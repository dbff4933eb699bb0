"""What the union sends a worker after a web report is in the language the worker reported in (the
reporting page's id/en switch), not the site's: the acknowledgement by email and on the tracking page,
and the mail around the union's replies. Real HTTP to the live test server, a real SMTP sink."""

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.intake import conversation, inbox, tracking
from unioncase.tests.hierarchy_data import ensure_hierarchy, make_official
from unioncase.tests.intake_data import WorkerBrowser, page_text, reset_limits, tracking_code
from unioncase.tests.mail_data import IntakeMailbox
from unioncase.tests.rest_client import RestSession

BOGOR = "T PUK Bogor Satu"
BOGOR_BRANCH = "t.branch.bogor@test.unioncase.org"
ACK = {
	"en": "Your union received your report.",
	"id": "Serikat Anda sudah menerima laporan Anda.",
}
REPLY_SUBJECT = {
	"en": "A message from your union about your report",
	"id": "Pesan dari serikat Anda tentang laporan Anda",
}


class TestWorkerLanguage(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		make_official(BOGOR_BRANCH, "Branch Official", "T Cabang Bogor")
		cls.box = IntakeMailbox(BOGOR)

	@classmethod
	def tearDownClass(cls):
		cls.box.stop()
		super().tearDownClass()

	def setUp(self):
		reset_limits()

	def report(self, lang: str) -> tuple[str, str, str]:
		"""A web report in `lang` with an email contact, processed: (case, code, the worker's address)."""
		address = f"pekerja.{frappe.generate_hash(length=8)}@pekerja.test"
		page = WorkerBrowser().report(union=BOGOR, lang=lang, contact=address)
		self.assertEqual(page.status_code, 200, page.text[:300])
		code = tracking_code(page)
		frappe.db.rollback()
		name = frappe.db.get_value(
			inbox.INBOUND, {"tracking_code_hash": tracking.code_hash(tracking.normalise(code))}
		)
		self.assertEqual(inbox.process_message(name), "Processed")
		return frappe.db.get_value(inbox.INBOUND, name, "grievance"), code, address

	def deliver_all(self, case: str):
		for name in frappe.get_all(
			conversation.CASE_MESSAGE,
			filters={"grievance": case, "delivery_status": "Queued"},
			pluck="name",
		):
			self.assertEqual(conversation.deliver(name), "Sent")
		self.box.send_queued()

	def test_the_acknowledgement_and_the_reply_mail_are_in_the_language_the_worker_used(self):
		site_language = frappe.db.get_single_value("System Settings", "language")
		for lang, other in (("en", "id"), ("id", "en")):
			case, code, address = self.report(lang)
			self.deliver_all(case)
			(acknowledgement,) = self.box.sent_to(address)
			body = acknowledgement.get_body(("html",)).get_content()
			self.assertIn(ACK[lang], body, f"reported in {lang} (site: {site_language})")
			self.assertNotIn(ACK[other], body)
			self.assertNotIn(code, body, "the tracking code is never mailed")
			# the tracking page shows it too, in the worker's language
			tracked = WorkerBrowser().track(code, lang=lang)
			self.assertIn(ACK[lang], page_text(tracked))

			answer = RestSession(BOGOR_BRANCH).post(
				"/api/method/unioncase.intake.conversation.reply",
				case=case,
				message="Kami sudah bicara dengan HRD.",
				channel="Email",
			)
			self.assertEqual(answer.status_code, 200, answer.text)
			frappe.db.rollback()
			self.deliver_all(case)
			reply = self.box.sent_to(address)[-1]
			self.assertEqual(reply["Subject"], REPLY_SUBJECT[lang])
			self.assertIn("Kami sudah bicara dengan HRD.", reply.get_body(("html",)).get_content())
