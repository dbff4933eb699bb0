"""Whitelisted replacements for platform endpoints that would otherwise bypass the hierarchy."""

import frappe
from frappe import _

from unioncase.compat import aggregate


@frappe.whitelist()
def get_count(doctype: str, filters=None, debug=False, cache=False) -> int:
	"""`frappe.client.get_count`, but through `frappe.get_list`, so permissions and scope apply.

	Frappe v15's version calls `frappe.db.count`, which ignores User Permissions entirely.
	"""
	if not frappe.has_permission(doctype, "read"):
		frappe.throw(_("Not permitted to read {0}").format(_(doctype)), frappe.PermissionError)
	if isinstance(filters, str):
		filters = frappe.parse_json(filters)
	rows = frappe.get_list(doctype, filters=filters, fields=[aggregate("count", "*", "total")], order_by=None)
	return rows[0].total if rows else 0
