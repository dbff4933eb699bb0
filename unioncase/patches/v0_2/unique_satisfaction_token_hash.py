"""Before the hash gets its unique index: an empty hash is NULL (many cases have none), never ''."""

import frappe


def execute():
	if frappe.db.has_column("Grievance", "satisfaction_token_hash"):
		frappe.db.sql(
			"update `tabGrievance` set satisfaction_token_hash = null where satisfaction_token_hash = ''"
		)
