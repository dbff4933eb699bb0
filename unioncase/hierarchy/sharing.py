"""Shares stay inside the hierarchy: Frappe grants a shared document whatever `has_permission` hooks say.

A share of a case, member or union with everyone, or with a user whose scope does not hold the document
(for each right it gives), is refused when it is made. A share that falls outside the scope later (the
document moved, the user was attached elsewhere or lost a role, a subtree moved) is withdrawn when that
happens.
"""

import frappe
from frappe import _

from unioncase.hierarchy.permissions import in_scope
from unioncase.hierarchy.scope import SCOPE_FIELDS

RIGHTS = ("write", "submit", "share")
# The columns whose change moves a document in the tree.
PLACEMENT_FIELDS = {"Grievance": ("owning_union", "originating_union"), "Union Member": ("workplace_union",)}


def refuse_share_outside_scope(doc, method=None):
	"""DocShare validate: a case, member or union is shared only with users whose scope holds it.

	Frappe grants a shared document whatever the has_permission hook says; a share with everyone, or
	with a user outside the document's part of the hierarchy, would reach around the hierarchy.
	"""
	if doc.share_doctype not in SCOPE_FIELDS or not doc.share_name:
		return
	if doc.everyone:
		frappe.throw(
			_(
				"{0} {1} cannot be shared with everyone: each official sees only their part of the union hierarchy."
			).format(_(doc.share_doctype), frappe.bold(doc.share_name)),
			frappe.PermissionError,
			title=_("Outside the user's part of the hierarchy"),
		)
	rights = [right for right in ("write", "submit", "share") if doc.get(right)]
	for ptype in ("read", *rights):
		if not in_scope(doc.share_doctype, doc.share_name, doc.user, ptype):
			frappe.throw(
				_(
					"{0} {1} cannot be shared with {2}: it is outside their part of the union hierarchy."
				).format(_(doc.share_doctype), frappe.bold(doc.share_name), frappe.bold(doc.user)),
				frappe.PermissionError,
				title=_("Outside the user's part of the hierarchy"),
			)


def withdraw_shares_outside_scope(
	doctype: str | None = None, names: list | None = None, user: str | None = None
):
	"""Delete the shares of scoped documents whose user's scope no longer holds the document; drop the
	rights (write, submit, share) their scope no longer gives."""
	filters = {"share_doctype": doctype or ["in", list(SCOPE_FIELDS)]}
	if names:
		filters["share_name"] = ["in", names]
	if user:
		filters["user"] = user
	for share in frappe.get_all(
		"DocShare",
		filters=filters,
		fields=["name", "share_doctype", "share_name", "user", "everyone", *RIGHTS],
	):
		if share.everyone or not in_scope(share.share_doctype, share.share_name, share.user, "read"):
			frappe.db.delete("DocShare", {"name": share.name})
			continue
		for right in RIGHTS:
			if share.get(right) and not in_scope(share.share_doctype, share.share_name, share.user, right):
				frappe.db.set_value("DocShare", share.name, right, 0, update_modified=False)


def on_document_moved(doc, method=None):
	"""Grievance and Union Member on_update: shares follow the document to its new place."""
	if any(doc.has_value_changed(field) for field in PLACEMENT_FIELDS.get(doc.doctype, ())):
		withdraw_shares_outside_scope(doc.doctype, [doc.name])


def on_attachment_change(doc, method=None):
	"""User Permission on_update and after_delete: the user's shares follow their new scope."""
	if doc.allow == "Union":
		withdraw_shares_outside_scope(user=doc.user)


def on_roles_change(doc, method=None):
	"""User on_update: a user who lost a role (one that saw the whole tree, or gave a right) keeps only
	the shares their scope still holds."""
	before = doc.get_doc_before_save()
	if before and {row.role for row in before.roles} - {row.role for row in doc.roles}:
		withdraw_shares_outside_scope(user=doc.name)
