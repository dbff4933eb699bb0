# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, formatdate

from unioncase.workflows.deadlines import WEEKDAYS, clear_calendar_cache


class UnionHolidayCalendar(Document):
	def validate(self):
		if all(cint(self.get(f"{day}_off")) for day in WEEKDAYS):
			frappe.throw(
				_("A holiday calendar needs at least one working day in the week."),
				title=_("No working days"),
			)
		seen = set()
		for row in self.holidays:
			if row.holiday_date in seen:
				frappe.throw(
					_("Row {0}: {1} is already a holiday in this calendar.").format(
						row.idx, formatdate(row.holiday_date)
					),
					title=_("Duplicate holiday"),
				)
			seen.add(row.holiday_date)

	def on_update(self):
		clear_calendar_cache()

	def on_trash(self):
		clear_calendar_cache()

	def after_rename(self, old, new, merge=False):
		clear_calendar_cache()
