# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

from frappe.model.document import Document

from unioncase.hierarchy.placement import validate_member
from unioncase.intake.phone import normalize_phone
from unioncase.privacy.consent import log_consent_change, validate_consent


class UnionMember(Document):
	def validate(self):
		validate_member(self)
		self.phone = normalize_phone(self.phone, "Phone (WhatsApp)")
		validate_consent(self)

	def on_update(self):
		log_consent_change(self)
