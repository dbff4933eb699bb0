"""Frappe's workflow action endpoint, with a message that says why an action is refused."""

import frappe
from frappe import _


@frappe.whitelist(methods=["POST"])
def apply_workflow(doc: str | dict, action: str):
	"""`frappe.model.workflow.apply_workflow`; a refused case action names the stage, owner and level.

	(Frappe's own message is "Not a valid Workflow Action".)
	"""
	from frappe.model import workflow

	document = frappe.get_doc(frappe.parse_json(doc))
	document.load_from_db()
	if document.doctype == "Grievance" and workflow.get_workflow_name(document.doctype):
		if action not in {transition.action for transition in workflow.get_transitions(document)}:
			frappe.throw(
				_(
					"You cannot {0} {1}: it is at stage {2}, owned by {3} ({4}), and none of your roles may take that action there."
				).format(
					frappe.bold(_(action)),
					frappe.bold(document.name),
					frappe.bold(_(document.workflow_state)),
					frappe.bold(document.owning_union),
					_(document.owning_level or ""),
				),
				workflow.WorkflowTransitionError,
				title=_("Action not allowed"),
			)
	return workflow.apply_workflow(document, action)
