"""What a stage change does to a case: status, owning level, closing rules, escalation hops, requests.

Grievance.validate calls `apply_stage_change` before placement (which recomputes the ancestry columns
from the originating union it sets); Grievance.on_update calls `after_stage_change` for the side effects, so a
refused transition leaves no ToDo, notification or email behind.
"""

import frappe
from frappe import _

from unioncase.hierarchy.scope import UNION
from unioncase.reports import summary
from unioncase.workflows import escalation
from unioncase.workflows.satisfaction import request_satisfaction

CLOSED, RESOLVED = "Closed", "Resolved"


def apply_stage_change(doc):
	before = doc.get_doc_before_save()
	transition = applied_transition(doc, before)
	refuse_unknown_move(doc, before, transition)
	if transition:
		escalation.refuse_self_approval(doc, before, transition)
		escalation.move_ownership(doc, before, transition)
		sync_status(doc)
	doc.originating_union = escalation.originating_union(doc)
	doc.owning_level = frappe.db.get_value(UNION, doc.owning_union, "level") if doc.owning_union else None
	validate_closing(doc, before)


def applied_transition(doc, before):
	"""The workflow transition this save makes, if it changes the stage and the user may make it.

	None when Frappe's own check (which runs after validate) is going to refuse the change.
	"""
	from frappe.model.workflow import get_transitions, get_workflow_name

	if not before or before.get("workflow_state") == doc.workflow_state or not doc.workflow_state:
		return None
	if not get_workflow_name(doc.doctype):
		return None
	candidates = [t for t in get_transitions(before) if t.next_state == doc.workflow_state]
	returns = [t for t in candidates if t.action == escalation.RETURN_ACTION]
	return (returns or candidates or [None])[0]


def refuse_unknown_move(doc, before, transition):
	"""A stage saved directly (kanban, REST) that no transition of this user allows: say which moves are.

	Frappe refuses it after validate with "Workflow State transition not allowed"; this names the case,
	its owner and the stages it can go to, on every version.
	"""
	from frappe.model.workflow import WorkflowPermissionError, get_transitions, get_workflow_name

	if transition or not before or not before.get("workflow_state") or not doc.workflow_state:
		return
	if before.workflow_state == doc.workflow_state or not get_workflow_name(doc.doctype):
		return
	allowed = sorted({_(t.next_state) for t in get_transitions(before)})
	frappe.throw(
		_(
			"You cannot move {0} from {1} to {2}: it is owned by {3} ({4}). From {1} you may move it to: {5}."
		).format(
			frappe.bold(doc.name),
			frappe.bold(_(before.workflow_state)),
			frappe.bold(_(doc.workflow_state)),
			frappe.bold(before.owning_union),
			_(before.owning_level or ""),
			", ".join(allowed) or _("no other stage"),
		),
		WorkflowPermissionError,
		title=_("Move not allowed"),
	)


def sync_status(doc):
	"""The coarse status follows the stage, also when the stage is saved directly (REST, kanban)."""
	from frappe.model.workflow import get_workflow

	state = next((s for s in get_workflow(doc.doctype).states if s.state == doc.workflow_state), None)
	if state and state.update_field and state.update_value:
		doc.set(state.update_field, state.update_value)


def validate_closing(doc, before):
	if doc.status != CLOSED or (before and before.status == CLOSED):
		return
	missing = [_(doc.meta.get_label(field)) for field in ("outcome", "remedy") if not doc.get(field)]
	if missing:
		frappe.throw(
			_("A case is closed with its outcome and a summary of the remedy. Fill in: {0}.").format(
				", ".join(missing)
			),
			frappe.MandatoryError,
			title=_("Outcome missing"),
		)


def after_stage_change(doc):
	if doc.flags.escalation_hop:
		escalation.announce_hop(doc, doc.flags.escalation_hop)
		doc.flags.escalation_hop = None
	before = doc.get_doc_before_save()
	if doc.status == RESOLVED and before and before.status != RESOLVED:
		request_satisfaction(doc)


def refresh_owning_level(union: str, level: str):
	"""Cases owned by a union whose level changed: the workflow conditions read the new level."""
	tables = ["Grievance"]
	if summary.exists():  # reports/summary.py
		tables.append("Grievance Analytics")
	for table in tables:
		grievance = frappe.qb.DocType(table)
		frappe.qb.update(grievance).set(grievance.owning_level, level).where(
			grievance.owning_union == union
		).run()
