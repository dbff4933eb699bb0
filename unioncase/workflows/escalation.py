"""Escalation up the union tree and return down it, each hop recorded with who, when and why.

A transition into ESCALATED moves ownership to the owning union's parent; the RETURN_ACTION
transition gives it back to the union it came from. The officials attached to the new owner (only
them: not its siblings, not the unions above) get a ToDo and a notification; Frappe's Workflow Action
reaches the same people because its list is scoped to cases the user may read (workflow_action_query).
"""

import frappe
from frappe import _
from frappe.utils import now_datetime

from unioncase.hierarchy.scope import OFFICIAL_ROLES, UNION

ESCALATED = "Escalated"
RETURN_ACTION = "Return to Lower Union"
ESCALATED_DIRECTION, RETURNED_DIRECTION = "Escalated", "Returned"
CASE_ADMIN_ROLE = "Union Administrator"


def move_ownership(doc, before, transition):
	if transition.next_state == ESCALATED:
		parent = frappe.db.get_value(UNION, doc.owning_union, "parent_union")
		if not parent:
			frappe.throw(
				_(
					"{0} is at the top of the union hierarchy: there is no union above it to escalate {1} to."
				).format(frappe.bold(doc.owning_union), frappe.bold(doc.name)),
				title=_("Cannot escalate further"),
			)
		record_hop(doc, ESCALATED_DIRECTION, parent)
		doc.escalated_from, doc.owning_union = doc.owning_union, parent
	elif transition.action == RETURN_ACTION and before.get("workflow_state") == ESCALATED:
		if not doc.escalated_from:
			frappe.throw(
				_("{0} was not escalated: there is no lower union to return it to.").format(
					frappe.bold(doc.name)
				),
				title=_("Cannot return"),
			)
		lower = doc.escalated_from
		record_hop(doc, RETURNED_DIRECTION, lower)
		doc.owning_union = lower
		# Back at a union that had itself received the case from below: that union is its origin now.
		doc.escalated_from = next(
			(
				hop.from_union
				for hop in reversed(doc.escalations)
				if hop.direction == ESCALATED_DIRECTION and hop.to_union == lower
			),
			None,
		)


def originating_union(doc) -> str | None:
	"""The bottom of the escalation chain still open (hops not yet returned), else the owning union."""
	chain = []
	for hop in doc.escalations:
		if hop.direction == ESCALATED_DIRECTION:
			chain.append(hop.from_union)
		elif chain:
			chain.pop()
	return chain[0] if chain else doc.owning_union


def record_hop(doc, direction: str, to_union: str):
	reason = (doc.escalation_reason or "").strip()
	if not reason:
		frappe.throw(
			_("Give the reason before the case moves to {0}: fill in {1}.").format(
				frappe.bold(to_union), frappe.bold(_("Reason for Escalating or Returning"))
			),
			frappe.MandatoryError,
			title=_("Reason missing"),
		)
	doc.flags.escalation_hop = doc.append(
		"escalations",
		{
			"direction": direction,
			"from_union": doc.owning_union,
			"to_union": to_union,
			"moved_by": frappe.session.user,
			"moved_on": now_datetime(),
			"reason": reason,
		},
	)
	doc.escalation_reason = None


def refuse_self_approval(doc, before, transition):
	"""A transition without self-approval: not by the case's creator (Frappe's rule, which Frappe checks
	only on the action buttons; here also on saves, kanban moves and REST), nor, out of Escalated, by
	the official who escalated it."""
	user = frappe.session.user
	if transition.allow_self_approval or user == "Administrator":
		return
	escalated_by = None
	if before.get("workflow_state") == ESCALATED:
		escalated_by = next(
			(hop.moved_by for hop in reversed(doc.escalations) if hop.direction == ESCALATED_DIRECTION), None
		)
	if user == escalated_by:
		message = _("You escalated {0} yourself: another official of {1} must {2} it.")
	elif user == doc.owner:
		message = _("You recorded {0} yourself: another official of {1} must {2} it.")
	else:
		return
	frappe.throw(
		message.format(frappe.bold(doc.name), frappe.bold(before.owning_union), _(transition.action)),
		frappe.PermissionError,
		title=_("Self approval is not allowed"),
	)


def officials_of(union: str) -> list[str]:
	"""Enabled officials attached (User Permission) to this very union, not to one above or beside it.

	Researchers attached there read cases but do not work on them.
	"""
	permission = frappe.qb.DocType("User Permission")
	user = frappe.qb.DocType("User")
	has_role = frappe.qb.DocType("Has Role")
	return (
		frappe.qb.from_(permission)
		.join(user)
		.on(user.name == permission.user)
		.join(has_role)
		.on((has_role.parent == user.name) & (has_role.parenttype == "User"))
		.select(permission.user)
		.distinct()
		.where(
			(permission.allow == UNION)
			& (permission.for_value == union)
			& (user.enabled == 1)
			& has_role.role.isin([*OFFICIAL_ROLES, CASE_ADMIN_ROLE])
			& (permission.applicable_for.isnull() | (permission.applicable_for.isin(["", "Grievance"])))
		)
		.orderby(permission.user)
	).run(pluck=True)


def announce_hop(doc, hop):
	"""What a hop sends, the same on every Frappe version: a timeline comment; to each official of the
	new owner who may read the case, one open ToDo and one Notification Log saying why it moved; the
	ToDos of those who may no longer work on the case close, silently (the union it came from keeps read
	access and sees the hop in the timeline). Nothing else.

	The ToDos are written here, not through frappe.desk.form.assign_to, whose own notices ("assigned a
	new task", "assignment removed") would say the same a second time, and not at the same moment
	everywhere: v15 creates them at once in tests, v16 and the embedded runtime after commit.
	"""
	message = (
		_("Escalated from {0} to {1}: {2}")
		if hop.direction == ESCALATED_DIRECTION
		else _("Returned from {0} to {1}: {2}")
	).format(hop.from_union, hop.to_union, hop.reason)
	doc.add_comment("Info", message)
	for todo in frappe.get_all(
		"ToDo",
		filters={"reference_type": doc.doctype, "reference_name": doc.name, "status": "Open"},
		fields=["name", "allocated_to"],
	):
		if not frappe.has_permission(doc.doctype, "write", doc=doc, user=todo.allocated_to):
			close_todo(todo.name)
	for user in officials_of(hop.to_union):
		if frappe.has_permission(doc.doctype, doc=doc, user=user):
			open_todo(doc, user, message)
			frappe.get_doc(
				{
					"doctype": "Notification Log",
					"for_user": user,
					"from_user": frappe.session.user,
					"type": "Alert",
					"document_type": doc.doctype,
					"document_name": doc.name,
					"subject": f"{doc.name}: {message}",
				}
			).insert(ignore_permissions=True)


def open_todo(doc, user: str, description: str):
	"""The user's open ToDo for the case (one at most), as Frappe's assignment writes it, without its notice."""
	from frappe.desk.form.document_follow import follow_document

	keys = {"reference_type": doc.doctype, "reference_name": doc.name, "allocated_to": user}
	if frappe.db.exists("ToDo", {**keys, "status": "Open"}):
		return
	frappe.get_doc(
		{
			"doctype": "ToDo",
			**keys,
			"status": "Open",
			"priority": "Medium",
			"date": frappe.utils.nowdate(),
			"assigned_by": frappe.session.user,
			"description": frappe.utils.escape_html(description),
		}
	).insert(ignore_permissions=True)  # ToDo.on_update keeps the case's _assign list and timeline
	if frappe.get_cached_value("User", user, "follow_assigned_documents"):
		follow_document(doc.doctype, doc.name, user)


def close_todo(name: str):
	todo = frappe.get_doc("ToDo", name)
	todo.status = "Cancelled"
	todo.save(ignore_permissions=True)


@frappe.whitelist(methods=["POST"])
def escalate(name: str, reason: str, action: str = "Escalate"):
	"""Apply an escalating or returning workflow action with its reason (the form's prompt calls this)."""
	from frappe.model.workflow import apply_workflow

	doc = frappe.get_doc("Grievance", name)
	doc.check_permission("write")
	doc.escalation_reason = reason
	doc.save()
	return apply_workflow(doc, action).as_dict()
