"""Moving a case through the installed Grievance Lifecycle in tests, as an official's actions do."""

from frappe.model.workflow import apply_workflow

# The actions that bring a case from Received to a stage (the workflow refuses jumps).
ACTIONS_TO = {
	"Verified": ("Verify",),
	"Under Investigation": ("Verify", "Investigate"),
	"Waiting on Worker": ("Verify", "Investigate", "Wait on Worker"),
	"In Mediation": ("Verify", "Investigate", "Take to Mediation"),
	"Resolved": ("Verify", "Investigate", "Resolve"),
}


def act(doc, *actions):
	for action in actions:
		doc = apply_workflow(doc, action)
	return doc


def move_to(doc, stage: str):
	return act(doc, *ACTIONS_TO[stage])
