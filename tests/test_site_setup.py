"""What `monoframe_compat.site` gives a new site, and what a migrate leaves alone."""

import unittest

import frappe
from frappe.utils import format_date, get_system_timezone
from monoframe_compat import site


class TestRegionalDefaults(unittest.TestCase):
	def tearDown(self):
		frappe.db.rollback()
		frappe.clear_cache()

	def test_a_new_site_keeps_indonesian_time_and_dates(self):
		frappe.db.set_single_value(
			"System Settings", {"time_zone": "Asia/Kolkata", "date_format": "mm-dd-yyyy"}
		)
		site.apply_regional_defaults()
		self.assertEqual(get_system_timezone(), "Asia/Jakarta")
		self.assertEqual(format_date("2026-08-17"), "17-08-2026")
