"""Cases per owning union and status, with the workers they affect: the Grievance Summary report."""

import frappe
from frappe import _

from unioncase.compat import aggregate
from unioncase.privacy.guard import get_list

FILTER_FIELDS = ("kind", "status", "category", "severity", "channel")


def execute(filters=None):
	filters = frappe._dict(filters or {})
	rows = get_list(
		"Grievance",
		filters=list_filters(filters),
		fields=[
			"owning_union",
			"status",
			aggregate("count", "*", "cases"),
			aggregate("sum", "workers_affected", "workers_affected"),
		],
		group_by="owning_union, status",
		order_by="owning_union asc",
		limit_page_length=0,
	)
	return columns(), rows


def list_filters(filters) -> list:
	conditions = [["Grievance", field, "=", filters[field]] for field in FILTER_FIELDS if filters.get(field)]
	if filters.get("from_date"):
		conditions.append(["Grievance", "received_on", ">=", filters.from_date])
	if filters.get("to_date"):
		conditions.append(["Grievance", "received_on", "<", frappe.utils.add_days(filters.to_date, 1)])
	return conditions


def columns() -> list[dict]:
	return [
		{
			"fieldname": "owning_union",
			"label": _("Owning Union"),
			"fieldtype": "Link",
			"options": "Union",
			"width": 260,
		},
		{"fieldname": "status", "label": _("Status"), "fieldtype": "Data", "width": 110},
		{"fieldname": "cases", "label": _("Cases"), "fieldtype": "Int", "width": 90},
		{"fieldname": "workers_affected", "label": _("Workers Affected"), "fieldtype": "Int", "width": 140},
	]
