"""The Member Broadcast form in headless Chromium: an official previews the recipient count, sends,
and follows the progress and the delivery report (members, never their numbers). The Intake
Conversation form of a guided SMS worker: its state for a System Manager, a refusal for an official,
the number on neither page."""

import secrets
from urllib.parse import quote

import frappe
from test_desk import BRANCH, DeskTestCase  # beside this file (pytest puts its folder on the path)

from unioncase.intake import broadcast, guided, handle
from unioncase.intake.test_broadcast import BOGOR, PREFIX, TEMPLATE, cleanup, make_members, start_provider
from unioncase.intake.test_sms import message as sms_message
from unioncase.intake.test_sms import post_sms, run_inbox
from unioncase.intake.test_sms_guided import remove_conversations
from unioncase.tests.rest_client import server_url
from unioncase.tests.sms_gateway import SmsGateway
from unioncase.tests.sms_gateway import configure as configure_sms


class TestBroadcastDesk(DeskTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cleanup()
		cls.provider = start_provider()
		cls.members, cls.numbers = make_members()

	@classmethod
	def tearDownClass(cls):
		cls.provider.stop()
		cleanup()
		super().tearDownClass()

	def test_an_official_previews_sends_and_reads_the_delivery_report(self):
		frappe.set_user(BRANCH)
		doc = frappe.get_doc(
			{
				"doctype": broadcast.BROADCAST,
				"union": "T Cabang Bogor",
				"channel": "WhatsApp",
				"template": TEMPLATE,
				"parameters": f"{PREFIX}Sabtu\nAula PUK",
			}
		).insert()
		frappe.set_user("Administrator")
		frappe.db.commit()
		page = self.desk(BRANCH)
		path = f"/app/member-broadcast/{quote(doc.name)}"
		self.visit(page, path, "1-draft", "button:has-text('Preview Recipients')")

		page.locator("button:has-text('Preview Recipients')").first.click()
		dialog = page.locator(".modal.show")
		dialog.wait_for(state="visible")
		self.assertIn(f"{len(BOGOR)} of the", dialog.inner_text())
		self.shot(page, "2-preview")
		dialog.locator(".btn-modal-close, .modal-header .close").first.click()
		dialog.wait_for(state="hidden")

		page.locator(".page-actions button:has-text('Send')").first.click()
		confirm = page.locator(".modal.show")
		confirm.wait_for(state="visible")
		self.assertIn(f"to {len(BOGOR)} members", confirm.inner_text())
		self.shot(page, "3-confirm")
		confirm.locator(".btn-primary").click()
		page.locator("button:has-text('Delivery Report')").first.wait_for(state="visible")
		frappe.db.rollback()
		self.assertEqual(frappe.db.get_value(broadcast.BROADCAST, doc.name, "status"), "Queued")
		self.shot(page, "4-queued")

		self.assertEqual(broadcast.run(doc.name), "Completed")
		frappe.db.commit()
		# no realtime server: the form's poll sees the job's progress field and reloads
		page.locator(".indicator-pill:has-text('Completed')").first.wait_for(state="visible", timeout=20_000)
		self.shot(page, "5-completed")

		page.locator("button:has-text('Delivery Report')").first.click()
		rows = page.locator(".list-row-container:has(.indicator-pill:has-text('Sent'))")
		rows.first.wait_for(state="visible")
		page.wait_for_load_state("networkidle")
		self.shot(page, "6-delivery-report")
		self.assertEqual(rows.count(), len(BOGOR))
		report = "\n".join(rows.all_inner_texts())
		for key in BOGOR:  # the member (by member number, or its record's name without one)
			self.assertIn(self.members[key], report)
		for key in BOGOR:
			self.assertNotIn(self.numbers[key][3:], report)

		# a Union Administrator (unrestricted) reads the same form: the counts and members, no number
		admin = self.desk(ADMIN)
		self.visit(admin, path, "7-administrator", ".indicator-pill:has-text('Completed')")
		form = admin.locator(".form-layout").inner_text()
		self.assertIn(str(len(BOGOR)), form)
		for key in BOGOR:
			self.assertNotIn(self.numbers[key][3:], admin.content())


SYSTEM_MANAGER = "t.sysmanager@test.unioncase.org"
ADMIN = "t.admin@test.unioncase.org"


class TestIntakeConversationDesk(DeskTestCase):
	"""The Intake Conversation form of a worker halfway through the guided SMS questions: a System Manager
	(the only role that reads it) sees its state in Bahasa Indonesia, never the number; an official is
	refused, and the number is not on their page either."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.gateway = SmsGateway()
		configure_sms(cls.gateway, "T Cabang Bogor", guided_intake=1)
		cls.number = "+62815" + "".join(secrets.choice("0123456789") for _ in range(8))
		for text in ("Halo", "1"):
			sent = sms_message(cls.number, text)
			cls.message_ids = [*getattr(cls, "message_ids", []), sent["messageId"]]
			if post_sms(sent).status_code != 200 or run_inbox(sent["messageId"]).state != "Processed":
				raise AssertionError(f"the SMS {text!r} was not processed")
		cls.conversation = frappe.db.get_value(
			guided.CONVERSATION, {"address_hash": handle.address_hash(cls.number), "channel": "SMS"}
		)
		frappe.db.set_value("User", SYSTEM_MANAGER, "language", "id")
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		frappe.db.set_value("User", SYSTEM_MANAGER, "language", None)
		remove_conversations([cls.number], cls.message_ids)
		cls.gateway.stop()
		super().tearDownClass()

	def test_the_conversation_form_shows_its_state_never_the_number(self):
		digits = self.number[4:]
		path = f"/app/intake-conversation/{quote(self.conversation)}"
		page = self.desk(SYSTEM_MANAGER)
		self.visit(page, path, "1-system-manager", ".form-layout")
		form = page.locator(".form-layout").inner_text()
		for label in ("Saluran", "Keadaan", "Menunggu", "Penanda Kontak", "Pekerja Terakhir Menulis Pada"):
			self.assertIn(label, form, "the labels in the user's language")
		self.assertIn(
			"Percakapan Penerimaan", page.locator(".navbar-breadcrumbs, .page-head").first.inner_text()
		)
		self.assertIn("Aktif", form, "the state, translated")
		self.assertNotIn(digits, page.content(), "the number is nowhere on the page")

		official = self.desk(BRANCH)
		official.allowed = [r"status of 403", r"PermissionError", r"Not permitted"]
		official.goto(f"{server_url()}{path}")
		refusal = official.locator(".modal.show .modal-body, .page-card-head, .msgprint")
		refusal.first.wait_for(state="visible")
		official.wait_for_load_state("networkidle")
		self.shot(official, "2-official-refused")
		self.assertEqual(
			official.locator(".frappe-control[data-fieldname='address_hash']:visible").count(), 0
		)
		self.assertNotIn(digits, official.content())
