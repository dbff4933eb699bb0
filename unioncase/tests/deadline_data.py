"""Calendars and deadline rules for the deadline tests."""

from datetime import date, datetime

import frappe

# Saturday and Sunday off; Tuesday 10 March 2026 is a holiday.
HOLIDAY = date(2026, 3, 10)
FRIDAY_10AM = datetime(2026, 3, 6, 10, 0)


def make_calendar(name, holidays=(), **offs):
	return frappe.get_doc(
		{
			"doctype": "Union Holiday Calendar",
			"calendar_name": name,
			**offs,
			"holidays": [{"holiday_date": day, "description": "Libur"} for day in holidays],
		}
	).insert()


def make_policy(name, **values):
	return frappe.get_doc(
		{
			"doctype": "Grievance Deadline Policy",
			"policy_name": name,
			"response_target": 1,
			"resolution_target": 10,
			**values,
		}
	).insert()
