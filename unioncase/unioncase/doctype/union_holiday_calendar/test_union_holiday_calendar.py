# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.tests.deadline_data import HOLIDAY, make_calendar


class TestUnionHolidayCalendar(IntegrationTestCase):
	def setUp(self):
		self.prefix = f"K{frappe.generate_hash(length=6)}"

	def test_a_calendar_needs_a_working_day(self):
		days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
		with self.assertRaisesRegex(frappe.ValidationError, "at least one working day"):
			make_calendar(f"{self.prefix} Libur", **{f"{day}_off": 1 for day in days})

	def test_a_holiday_is_listed_once(self):
		with self.assertRaisesRegex(frappe.ValidationError, "already a holiday"):
			make_calendar(f"{self.prefix} Ganda", holidays=[HOLIDAY, HOLIDAY])
