"""Logs that can quote a case or a worker are cleared by Frappe's Log Settings, never after the retention period."""

import frappe
from frappe.core.doctype.log_settings.log_settings import run_log_clean_up
from frappe.utils import add_days, now_datetime

from unioncase.compat import IntegrationTestCase
from unioncase.privacy.logs import PERIODS, apply_log_clearing

IDENTITY_LOGS = ("Error Log", "Notification Log", "Email Queue")


def periods() -> dict[str, int]:
	return {row.ref_doctype: row.days for row in frappe.get_single("Log Settings").logs_to_clear}


class TestLogClearing(IntegrationTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		self.retention_days = frappe.db.get_single_value("Privacy Settings", "retention_days")

	def tearDown(self):
		settings = frappe.get_single("Privacy Settings")
		settings.retention_days = self.retention_days
		settings.save()

	def test_the_site_clears_every_log_that_can_quote_a_worker(self):
		installed = periods()  # after_install / the patch ran on this site
		for doctype in IDENTITY_LOGS:
			with self.subTest(doctype=doctype):
				self.assertIn(doctype, installed)
				self.assertLessEqual(installed[doctype], PERIODS[doctype])

	def test_periods_follow_the_retention_policy(self):
		settings = frappe.get_single("Privacy Settings")
		settings.retention_days = 10
		settings.save()
		self.assertEqual(
			{doctype: periods()[doctype] for doctype in IDENTITY_LOGS}, dict.fromkeys(IDENTITY_LOGS, 10)
		)
		log_settings = frappe.get_single("Log Settings")
		for row in log_settings.logs_to_clear:
			if row.ref_doctype == "Notification Log":
				row.days = 3  # an admin's shorter period
		log_settings.save()
		apply_log_clearing(730)
		self.assertEqual(periods()["Notification Log"], 3)
		self.assertEqual(periods()["Email Queue"], min(PERIODS["Email Queue"], 10))

	def test_an_old_notification_quoting_a_case_is_cleared(self):
		apply_log_clearing(730)
		old, recent = (
			frappe.get_doc(
				{
					"doctype": "Notification Log",
					"for_user": "Administrator",
					"type": "Alert",
					"subject": f"Case of Siti Rahayu {age}",
				}
			).insert(ignore_permissions=True)
			for age in ("old", "recent")
		)
		# aged on both clocks: v15's Notification Log.clear_old_logs compares `modified`, v16's `creation`
		aged = add_days(now_datetime(), -PERIODS["Notification Log"] - 1)
		frappe.db.set_value(
			"Notification Log", old.name, {"creation": aged, "modified": aged}, update_modified=False
		)
		run_log_clean_up()  # Frappe's daily job
		self.assertFalse(frappe.db.exists("Notification Log", old.name))
		self.assertTrue(frappe.db.exists("Notification Log", recent.name))
