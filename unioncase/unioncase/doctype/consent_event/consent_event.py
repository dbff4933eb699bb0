# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class ConsentEvent(Document):
	pass


def on_doctype_update():
	# a member's latest event of a purpose (broadcasts: unioncase.privacy.consent.broadcast_consent_condition)
	frappe.db.add_index(
		"Consent Event", ["reference_name", "purpose", "event_on", "creation"], "reference_purpose_on"
	)
