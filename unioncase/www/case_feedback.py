"""The worker's satisfaction page, reached by the link in the email sent when their case is resolved."""

import frappe
from frappe.sessions import get_csrf_token

from unioncase.workflows.satisfaction import (
	MAX_COMMENT,
	MAX_RATING,
	PAGE_VIEWS_PER_HOUR,
	case_for_token,
	limit_requests,
)

no_cache = 1


def get_context(context):
	context.no_cache = 1
	limit_requests("case-feedback-page", PAGE_VIEWS_PER_HOUR)
	context.token = frappe.form_dict.token or ""
	context.done = bool(frappe.form_dict.done)
	context.case = None if context.done else case_for_token(context.token)
	context.ratings = range(1, MAX_RATING + 1)
	context.max_comment = MAX_COMMENT
	# A signed-in browser's POST needs its session's CSRF token (Frappe refuses it otherwise); a guest has none.
	context.csrf_token = get_csrf_token() if frappe.session.user != "Guest" else ""
	context.lang = frappe.local.lang
	return context
