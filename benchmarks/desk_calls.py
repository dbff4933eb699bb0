"""The calls the Desk makes for an official's case views, as (label, method, parameters).

Shared by desk.py (timed over HTTP through the running server) and in_process.py (the same calls
in-process, to EXPLAIN what they run). Parameters are what the Desk's list, sidebar and kanban send.
"""

import json

from unioncase.workflows.install import definition

CASE = "Grievance"
LIST_FIELDS = ["name", "subject", "status", "workflow_state", "severity", "owning_union", "modified"]
OPEN = [[CASE, "status", "=", "Open"]]
# The Desk's list count stops at this many (list views show "1000+").
COUNT_LIMIT = 1001
PING = "ping"
# The two officials at the ends of the tree: (label, demo login)
SCOPES = (
	("federation", "federation.garment@demo.unioncase.org"),
	("workplace", "workplace.bogor@demo.unioncase.org"),
)
PASSWORD = "demo-password-2026"


def open_stages() -> list[str]:
	return [state["state"] for state in definition()["states"] if state["status"] == "Open"]


def list_call(filters, order_by: str) -> dict:
	return {
		"doctype": CASE,
		"fields": json.dumps([f"`tab{CASE}`.`{field}`" for field in LIST_FIELDS]),
		"filters": json.dumps(filters),
		"order_by": order_by,
		"start": "0",
		"page_length": "20",
		"view": "List",
		"group_by": "",
		"with_comment_count": "1",
	}


def calls() -> list[tuple[str, str, dict]]:
	newest = f"`tab{CASE}`.`modified` desc"
	result = [
		("list open, last updated", "frappe.desk.reportview.get", list_call(OPEN, newest)),
		(
			"list open, oldest updated",
			"frappe.desk.reportview.get",
			list_call(OPEN, f"`tab{CASE}`.`modified` asc"),
		),
		(
			"list open, newest created",
			"frappe.desk.reportview.get",
			list_call(OPEN, f"`tab{CASE}`.`creation` desc"),
		),
		("all cases, last updated", "frappe.desk.reportview.get", list_call([], newest)),
		(
			"count open",
			"frappe.desk.reportview.get_count",
			{
				"doctype": CASE,
				"filters": json.dumps(OPEN),
				"fields": "[]",
				"distinct": "false",
				"limit": str(COUNT_LIMIT),
			},
		),
		(
			"count all",
			"frappe.desk.reportview.get_count",
			{
				"doctype": CASE,
				"filters": "[]",
				"fields": "[]",
				"distinct": "false",
				"limit": str(COUNT_LIMIT),
			},
		),
	]
	for field in ("workflow_state", "category", "owning_union"):
		result.append(
			(
				f"sidebar group-by {field}",
				"frappe.desk.listview.get_group_by_count",
				{"doctype": CASE, "current_filters": json.dumps(OPEN), "field": field},
			)
		)
	for stage in open_stages():
		# the kanban board "Grievances by Stage" (filter: open cases), one call per column
		filters = [*OPEN, [CASE, "workflow_state", "=", stage]]
		result.append((f"kanban column {stage}", "frappe.desk.reportview.get", list_call(filters, newest)))
	return result
