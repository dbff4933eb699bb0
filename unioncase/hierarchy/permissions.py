"""Permission hooks that keep every read path (list, report, REST, count, search, export) inside the
official's subtree, as an IN-list on an indexed column.

Frappe's own User Permission condition (`ifnull(col,'')='' or col in (...)` unless strict mode is on)
stays in place and keeps the semantics; the hook adds a sargable `col in (...)` beside it so that
MariaDB can serve the scoped list from the (owning_union, status, modified) index.
"""

import frappe

from unioncase.hierarchy.scope import UNION, allowed_unions

# The column that places each scoped doctype in the tree.
SCOPE_FIELDS = {
	"Grievance": "owning_union",
	"Union Member": "workplace_union",
	"Union": "name",
}


def scope_condition(doctype: str, user: str | None = None) -> str:
	unions = allowed_unions(user, doctype)
	if unions is None:
		return ""
	if not unions:
		return "1=0"
	values = ", ".join(frappe.db.escape(union, percent=False) for union in unions)
	return f"`tab{doctype}`.`{SCOPE_FIELDS[doctype]}` in ({values})"


def grievance_query(user=None, doctype=None):
	return scope_condition("Grievance", user)


def union_member_query(user=None, doctype=None):
	return scope_condition("Union Member", user)


def union_query(user=None, doctype=None):
	return scope_condition(UNION, user)


def has_scoped_permission(doc, ptype=None, user=None, debug=False):
	"""Refuse a document outside the user's subtree; True leaves the decision to the role permissions.

	(Controller hooks can only deny, and v16 reads None as a denial, so "no objection" is True.)
	"""
	unions = allowed_unions(user, doc.doctype)
	if unions is None:
		return True
	placed_in = doc.get(SCOPE_FIELDS[doc.doctype])
	if doc.doctype == UNION and (ptype == "create" or doc.is_new()):
		# A new union is placed by its parent: officials add unions below their own.
		placed_in = doc.parent_union
	return placed_in in unions
