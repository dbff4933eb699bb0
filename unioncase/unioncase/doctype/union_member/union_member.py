# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

from frappe.model.document import Document
from frappe.utils import now_datetime

from unioncase.hierarchy.placement import validate_member
from unioncase.intake.phone import normalize_phone


class UnionMember(Document):
	def validate(self):
		validate_member(self)
		self.phone = normalize_phone(self.phone, "Phone (WhatsApp)")
		if self.consent_given and not self.consent_given_on:
			self.consent_given_on = now_datetime()
