"""The Member Broadcast form in headless Chromium: an official previews the recipient count, sends,
and follows the progress and the delivery report (members, never their numbers)."""

from urllib.parse import quote

import frappe
from test_desk import BRANCH, DeskTestCase  # beside this file (pytest puts its folder on the path)

from unioncase.intake import broadcast
from unioncase.intake.test_broadcast import BOGOR, PREFIX, TEMPLATE, cleanup, make_members, start_provider


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
