"""A site that took SMS before the guided first contact came to SMS keeps answering them as it did (a case
at once); its admin turns Guided First Contact on in SMS Intake Settings when the union is ready."""

import frappe

from unioncase.intake import inbox, sms


def execute():
	if frappe.db.sql(
		"select 1 from `tabSingles` where doctype = %s and field = 'guided_intake'", sms.SETTINGS
	):
		return  # an admin chose already
	if frappe.db.exists(inbox.INBOUND, {"channel": sms.CHANNEL}):
		frappe.db.set_single_value(sms.SETTINGS, "guided_intake", 0)
