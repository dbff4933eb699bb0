"""Permission hooks that keep every read path (list, report, REST, count, search, export, a document)
inside the official's subtree, from the one criterion of hierarchy/scope.py.

Lists get the criterion as their condition; `has_permission` asks the database whether the stored row
meets it, and for a write also whether the placement the document is being given does: a user moves a
document only from inside their scope to inside it. Frappe's own User Permission condition stays in
place beside it for members and unions.

Frappe grants a shared document even when this hook refuses it: hierarchy/sharing.py keeps shares
inside scope.
"""

import frappe

from unioncase.hierarchy.ancestry import case_placement
from unioncase.hierarchy.scope import (
	NOTHING,
	READ_PTYPES,
	SCOPE_FIELDS,
	UNION,
	scope_criterion,
)


def grievance_query(user=None, doctype=None):
	"""Cases under the user's attachments, by the ancestry column of each attachment's level."""
	return scope_criterion("Grievance", user)


def union_member_query(user=None, doctype=None):
	return scope_criterion("Union Member", user)


def union_query(user=None, doctype=None):
	return scope_criterion(UNION, user)


def file_query(user=None, doctype=None):
	"""Files attached to a case, member or union are listed to whoever may read that document.

	Frappe lists to every desk user the files attached to any doctype they may read, in any part of
	the tree (their names and URLs; downloading already asks has_permission).
	"""
	user = user or frappe.session.user
	attached_to = "`tabFile`.`attached_to_doctype`"
	scoped = ", ".join(frappe.db.escape(doctype, percent=False) for doctype in SCOPE_FIELDS)
	conditions, restricted = [f"ifnull({attached_to}, '') not in ({scoped})"], False
	for doctype in SCOPE_FIELDS:
		criterion = scope_criterion(doctype, user)
		same_doctype = f"{attached_to} = {frappe.db.escape(doctype, percent=False)}"
		restricted = restricted or bool(criterion)
		if not criterion:
			conditions.append(same_doctype)
		elif criterion != NOTHING:
			conditions.append(
				f"({same_doctype} and `tabFile`.`attached_to_name` in "
				f"(select `tab{doctype}`.`name` from `tab{doctype}` where {criterion}))"
			)
	return "({})".format(" or ".join(conditions)) if restricted else ""


def has_scoped_permission(doc, ptype=None, user=None, debug=False):
	"""Refuse a document outside the user's subtree; True leaves the decision to the role permissions.

	(Controller hooks can only deny; newer Frappe reads None as a denial, so "no objection" is True.)
	"""
	ptype = ptype or "read"
	criterion = scope_criterion(doc.doctype, user, ptype)
	if not criterion:
		return True
	if criterion == NOTHING:
		return False
	creating = ptype == "create" or doc.is_new()
	if not creating and not stored_row_matches(doc.doctype, doc.name, criterion):
		return False
	if ptype in READ_PTYPES and not creating:
		return True
	if doc.doctype == "Grievance" and creating and not doc.get("owning_union"):
		# Not placed yet: validation answers that the owning union is required, and checks the scope
		# again once it is set (placement.validate_grievance), so this is no way around it.
		return True
	# a write (or a new document): where the document is being placed is inside the scope too
	return values_match(doc.doctype, placement_of(doc, creating), criterion)


def in_scope(doctype: str, name: str, user: str, ptype: str = "read") -> bool:
	"""Whether the stored document is in the user's scope for ptype."""
	criterion = scope_criterion(doctype, user, ptype)
	return not criterion or (criterion != NOTHING and stored_row_matches(doctype, name, criterion))


def stored_row_matches(doctype: str, name: str, criterion: str) -> bool:
	# literals, not query parameters: the criterion's own literals may hold a "%"
	table = f"`tab{doctype}`"
	return bool(
		frappe.db.sql(
			f"select 1 from {table} where {table}.`name` = {literal(name)} and ({criterion}) limit 1"
		)
	)


def values_match(doctype: str, values: dict, criterion: str) -> bool:
	"""The criterion on a one-row table of `values`, named like the doctype's table."""
	columns = ", ".join(f"{literal(value)} as `{column}`" for column, value in values.items())
	return bool(frappe.db.sql(f"select 1 from (select {columns}) `tab{doctype}` where {criterion}"))


def literal(value) -> str:
	return "null" if value is None else frappe.db.escape(str(value), percent=False)


def placement_of(doc, creating: bool) -> dict:
	"""The scope columns the document will have once saved."""
	if doc.doctype == "Grievance":
		return case_placement(doc.get("owning_union"), doc.get("originating_union"))
	if doc.doctype == UNION:
		# a new union is placed by its parent: officials add unions below their own
		return {"name": doc.get("parent_union") if creating else doc.name}
	field = SCOPE_FIELDS[doc.doctype]
	return {field: doc.get(field)}
