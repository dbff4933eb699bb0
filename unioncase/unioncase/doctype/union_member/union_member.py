# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

from frappe.model.document import Document
from frappe.utils import now_datetime

from unioncase.hierarchy.placement import validate_member


class UnionMember(Document):
	def validate(self):
		validate_member(self)
		if self.consent_given and not self.consent_given_on:
			self.consent_given_on = now_datetime()
