"""The Reply to Worker dialog on the case form, in headless Chromium: the conversation is shown on the
form, the dialog preselects the channel the worker last wrote on, and the reply is stored."""

from urllib.parse import quote

import frappe
from test_desk import BRANCH, DeskTestCase  # beside this file (pytest puts its folder on the path)

from unioncase.intake import inbox
from unioncase.tests.intake_data import receive_report
from unioncase.tests.rest_client import server_url


class TestReplyFromTheCase(DeskTestCase):
	def test_an_official_replies_to_the_worker_from_the_case_form(self):
		name, _created = receive_report(
			frappe.generate_hash(), "T PUK Bogor Satu", description="Upah lembur tidak dibayar sejak Juli."
		)
		inbox.process_message(name)
		case = frappe.db.get_value(inbox.INBOUND, name, "grievance")
		frappe.db.commit()
		page = self.desk(BRANCH)
		self.visit(page, f"/app/grievance/{quote(case)}", "1-form", "button:has-text('Reply to Worker')")
		conversation = page.locator("[data-fieldname='conversation_html']")
		conversation.locator(".uc-from-worker").first.wait_for(state="attached")
		self.assertIn("Upah lembur tidak dibayar sejak Juli.", conversation.inner_text())

		page.locator("button:has-text('Reply to Worker')").first.click()
		dialog = page.locator(".modal.show")
		self.assertEqual(dialog.locator("select[data-fieldname='channel']").input_value(), "Tracking Page")
		dialog.locator("textarea[data-fieldname='message']").fill("Kami akan menemui HRD hari Senin.")
		self.shot(page, "2-reply-dialog")
		dialog.locator(".btn-primary").click()
		page.locator(".uc-to-worker").first.wait_for(state="attached")
		self.shot(page, "3-replied")
		frappe.db.rollback()
		self.assertEqual(
			frappe.get_all(
				"Case Message",
				filters={"grievance": case, "direction": "To Worker"},
				fields=["content", "channel", "sent_by"],
			),
			[{"content": "Kami akan menemui HRD hari Senin.", "channel": "Tracking Page", "sent_by": BRANCH}],
		)
		self.assertIn(server_url(), page.url)
