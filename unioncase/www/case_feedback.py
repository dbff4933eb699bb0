"""The worker's satisfaction page, reached by the link in the email sent when their case is resolved."""

import frappe

from unioncase.workflows.satisfaction import MAX_RATING, case_for_token

no_cache = 1


def get_context(context):
	context.no_cache = 1
	context.token = frappe.form_dict.token or ""
	context.done = bool(frappe.form_dict.done)
	context.case = None if context.done else case_for_token(context.token)
	context.ratings = range(1, MAX_RATING + 1)
	context.lang = frappe.local.lang
	return context
