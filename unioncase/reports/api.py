"""Whitelisted reads the analytics reports' filters and the workspace need."""

import frappe
from frappe import _

from unioncase.reports.queries import dimension_choices


@frappe.whitelist(methods=["GET"])
def group_by_choices() -> list[dict]:
	"""The reports' group-by choices: the fixed dimensions and the site's own custom fields."""
	if not frappe.has_permission("Grievance", "read"):
		frappe.throw(_("Not permitted to read cases."), frappe.PermissionError)
	return [{"value": name, "label": _(label)} for name, label in dimension_choices()]
