"""The default case lifecycle: workflow, states, actions, kanban board and per-union assignment rules.

Installed as data, insert-if-missing, by after_install and a patch: an admin edits all of it from the
Desk (Workflow form) and `migrate` never overwrites those edits.
"""

import json
from pathlib import Path

import frappe

from unioncase.hierarchy.scope import LEVELS, OFFICIAL_ROLES
from unioncase.workflows.escalation import CASE_ADMIN_ROLE as ADMIN_ROLE

DEFINITION = Path(__file__).with_name("grievance_lifecycle.json")
# Each level's officials act on the cases their level owns.
LEVEL_ROLES = dict(zip(LEVELS, OFFICIAL_ROLES, strict=True))
KANBAN_BOARD = "Grievances by Stage"
STATE_COLORS = {
	"Primary": "Blue",
	"Info": "Cyan",
	"Warning": "Orange",
	"Inverse": "Gray",
	"Danger": "Red",
	"Success": "Green",
	"": "Gray",
}


def definition() -> dict:
	return json.loads(DEFINITION.read_text())


def install_lifecycle():
	workflow = definition()
	for role in (*OFFICIAL_ROLES, ADMIN_ROLE):
		if not frappe.db.exists("Role", role):
			frappe.get_doc({"doctype": "Role", "role_name": role, "desk_access": 1}).insert(
				ignore_permissions=True
			)
	for state in workflow["states"]:
		if not frappe.db.exists("Workflow State", state["state"]):
			frappe.get_doc(
				{"doctype": "Workflow State", "workflow_state_name": state["state"], "style": state["style"]}
			).insert(ignore_permissions=True)
	for action in {transition["action"] for transition in workflow["transitions"]}:
		if not frappe.db.exists("Workflow Action Master", action):
			frappe.get_doc({"doctype": "Workflow Action Master", "workflow_action_name": action}).insert(
				ignore_permissions=True
			)
	fill_case_stages(workflow)
	# Any workflow on Grievance is the admin's choice: a second one would deactivate it.
	if not frappe.db.exists("Workflow", {"document_type": workflow["document_type"]}):
		frappe.get_doc(workflow_doc(workflow)).insert(ignore_permissions=True)
	make_kanban_board(workflow)
	from unioncase.workflows.assignment import sync_all_assignment_rules

	sync_all_assignment_rules()


def workflow_doc(workflow: dict) -> dict:
	"""The Workflow record: each transition once per level it is allowed at, and once for administrators."""
	transitions = []
	for rule in workflow["transitions"]:
		levels = LEVELS if rule["levels"] == "all" else rule["levels"]
		allowed = [(LEVEL_ROLES[level], f'doc.owning_level == "{level}"') for level in levels]
		allowed.append((ADMIN_ROLE, None))
		for state in rule["from"]:
			for role, condition in allowed:
				transitions.append(
					{
						"state": state,
						"action": rule["action"],
						"next_state": rule["to"],
						"allowed": role,
						"condition": condition,
						"allow_self_approval": rule.get("allow_self_approval", 1),
					}
				)
	return {
		"doctype": "Workflow",
		"workflow_name": workflow["workflow_name"],
		"document_type": workflow["document_type"],
		"workflow_state_field": workflow["workflow_state_field"],
		"is_active": 1,
		"override_status": 1,
		"send_email_alert": 0,
		"states": [
			{
				"state": state["state"],
				"doc_status": "0",
				"update_field": "status",
				"update_value": state["status"],
				"allow_edit": state.get("allow_edit", "All"),
			}
			for state in workflow["states"]
		],
		"transitions": transitions,
	}


def fill_case_stages(workflow: dict):
	"""Cases saved without validation (existing ones, bulk demo rows) get the stage matching their
	status (not all "Received"), their owning level and their originating union."""
	grievance = frappe.qb.DocType("Grievance")
	union = frappe.qb.DocType("Union")
	first_state_of_status = {}
	for state in workflow["states"]:
		first_state_of_status.setdefault(state["status"], state["state"])
	for status, state in first_state_of_status.items():
		(
			frappe.qb.update(grievance)
			.set(grievance.workflow_state, state)
			.where(grievance.status == status)
			.where(grievance.workflow_state.isnull() | (grievance.workflow_state == ""))
		).run()
	(
		frappe.qb.update(grievance)
		.set(grievance.originating_union, grievance.owning_union)
		.where(grievance.originating_union.isnull())
	).run()
	(
		frappe.qb.update(grievance)
		.join(union)
		.on(union.name == grievance.owning_union)
		.set(grievance.owning_level, union.level)
		.where(grievance.owning_level.isnull() | (grievance.owning_level != union.level))
	).run()


def make_kanban_board(workflow: dict):
	if frappe.db.exists("Kanban Board", KANBAN_BOARD):
		return
	frappe.get_doc(
		{
			"doctype": "Kanban Board",
			"kanban_board_name": KANBAN_BOARD,
			"reference_doctype": workflow["document_type"],
			"field_name": workflow["workflow_state_field"],
			"private": 0,
			"show_labels": 1,
			"filters": json.dumps([["Grievance", "status", "=", "Open"]]),
			"fields": json.dumps(["owning_union", "severity"]),
			"columns": [
				{
					"column_name": state["state"],
					"status": "Active",
					"indicator": STATE_COLORS.get(state["style"], "Gray"),
				}
				for state in workflow["states"]
			],
		}
	).insert(ignore_permissions=True)
