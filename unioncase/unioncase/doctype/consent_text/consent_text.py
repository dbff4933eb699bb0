# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

from frappe.model.document import Document

from unioncase.privacy.consent import validate_consent_text


class ConsentText(Document):
	def validate(self):
		validate_consent_text(self)
