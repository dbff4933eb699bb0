# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from unioncase.intake.phone import normalize_phone

MAX_PARTS = 10


class SMSIntakeSettings(Document):
	def validate(self):
		seen = set()
		for row in self.receiving_numbers:
			row.number = normalize_phone(row.number, _("Receiving Number"))
			if row.number in seen:
				frappe.throw(
					_("Receiving number {0} is listed twice.").format(frappe.bold(row.number)),
					title=_("Receiving Numbers"),
				)
			seen.add(row.number)
		if not 1 <= (self.max_parts or 0) <= MAX_PARTS:
			frappe.throw(
				_("Most Parts per Message must be between 1 and {0}.").format(MAX_PARTS),
				title=_("Most Parts per Message"),
			)
