"""Who works on a case: per-union load balancing of new cases, and assignment within the hierarchy.

Each union with attached officials has an Assignment Rule "Grievance: <union>" (Load Balancing over
those officials) for the new cases it owns. Its Users follow the union's User Permissions; an admin's
other edits (condition, priority, days, description) stay. A rule left without officials is disabled.
"""

import json

import frappe
from frappe import _

from unioncase.hierarchy.scope import UNION
from unioncase.workflows.escalation import officials_of

RULE_PREFIX = "Grievance: "
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def rule_name(union: str) -> str:
	return f"{RULE_PREFIX}{union}"


def sync_assignment_rule(union: str):
	if not frappe.db.exists(UNION, union):
		return
	users = officials_of(union)
	name = rule_name(union)
	if not frappe.db.exists("Assignment Rule", name):
		if not users:
			return
		rule = frappe.new_doc("Assignment Rule")
		rule.update(
			{
				"__newname": name,
				"document_type": "Grievance",
				"description": _("New case for {0}").format(union),
				"rule": "Load Balancing",
				"priority": 0,
				# New cases only: escalated cases are announced to the new owner's officials instead.
				"assign_condition": f'owning_union == {json.dumps(union)} and workflow_state == "Received"',
				"assignment_days": [{"day": day} for day in DAYS],
			}
		)
	else:
		rule = frappe.get_doc("Assignment Rule", name)
		if [row.user for row in rule.users] == users and rule.disabled == (0 if users else 1):
			return
	rule.set("users", [{"user": user} for user in users])
	rule.disabled = 0 if users else 1
	rule.save(ignore_permissions=True)


def sync_all_assignment_rules():
	for union in frappe.get_all(
		"User Permission", filters={"allow": UNION}, pluck="for_value", distinct=True
	):
		sync_assignment_rule(union)


def on_user_permission_change(doc, method=None):
	"""doc_events on User Permission (after insert, update, delete): an official attached or detached."""
	if doc.allow != UNION:
		return
	sync_assignment_rule(doc.for_value)
	before = doc.get_doc_before_save() if method == "on_update" else None
	if before and before.allow == UNION and before.for_value != doc.for_value:
		sync_assignment_rule(before.for_value)


def validate_todo_scope(doc, method=None):
	"""doc_events on ToDo: nobody is assigned a case outside their part of the hierarchy.

	(Frappe would otherwise share the case with the assignee, around the hierarchy.)
	"""
	if doc.reference_type != "Grievance" or not doc.reference_name or doc.status != "Open":
		return
	if not frappe.has_permission("Grievance", doc=doc.reference_name, user=doc.allocated_to):
		frappe.throw(
			_("{0} cannot be assigned {1}: the case is outside their part of the union hierarchy.").format(
				frappe.bold(doc.allocated_to), frappe.bold(doc.reference_name)
			),
			frappe.PermissionError,
			title=_("Outside the assignee's part of the hierarchy"),
		)


def workflow_action_query(user=None, doctype=None):
	"""Workflow Actions on cases: only for users who may read the case (Frappe checks only the role)."""
	from unioncase.hierarchy.permissions import grievance_query

	user = user or frappe.session.user
	condition = grievance_query(user)
	if not condition:
		return ""
	return (
		"(`tabWorkflow Action`.`reference_doctype` != 'Grievance' or `tabWorkflow Action`.`reference_name` in "
		f"(select `tabGrievance`.`name` from `tabGrievance` where {condition}))"
	)


def workflow_action_permission(doc, ptype=None, user=None, debug=False):
	"""A case's actions are for who may read the case; then Frappe's own check decides (v15 takes the
	first hook's answer and would skip it)."""
	from frappe.workflow.doctype.workflow_action.workflow_action import has_permission as action_permission

	user = user or frappe.session.user
	if doc.reference_doctype == "Grievance" and doc.reference_name:
		if not frappe.has_permission("Grievance", doc=doc.reference_name, user=user):
			return False
	return bool(action_permission(doc, user))
