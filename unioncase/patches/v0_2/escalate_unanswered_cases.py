import frappe

from unioncase.workflows.install import definition, workflow_doc

ARRIVAL_STATE, ESCALATE = "Received", "Escalate"


def execute():
	"""Sites with the first lifecycle get Escalate from Received, which the overdue job uses for cases
	nobody answered; only the missing transitions are added, so an admin's other edits stay."""
	workflow = definition()
	name = frappe.db.get_value("Workflow", {"document_type": workflow["document_type"], "is_active": 1})
	if not name:
		return
	doc = frappe.get_doc("Workflow", name)
	states = {row.state for row in doc.states}
	# An admin who removed escalation or the arrival state meant it.
	if ARRIVAL_STATE not in states or not any(row.action == ESCALATE for row in doc.transitions):
		return
	present = {(row.state, row.action, row.allowed) for row in doc.transitions}
	for transition in workflow_doc(workflow)["transitions"]:
		key = (transition["state"], transition["action"], transition["allowed"])
		if key[:2] == (ARRIVAL_STATE, ESCALATE) and key not in present:
			doc.append("transitions", transition)
	doc.save(ignore_permissions=True)
