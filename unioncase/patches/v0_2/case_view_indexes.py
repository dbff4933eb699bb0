"""The indexes the Desk's case views are read from (Grievance CASE_INDEXES), on sites whose Grievance
DocType is not synced again, and the overdue job's index in its new column order."""

import frappe

from unioncase.unioncase.doctype.grievance.grievance import DROPPED_INDEXES, on_doctype_update


def execute():
	on_doctype_update()
	existing = {row.Key_name for row in frappe.db.sql("show index from `tabGrievance`", as_dict=True)}
	for name in DROPPED_INDEXES:
		if name in existing:
			frappe.db.sql_ddl(f"alter table `tabGrievance` drop index `{name}`")
