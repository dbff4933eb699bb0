"""Permission hooks that keep every read path (list, report, REST, count, search, export) inside the
official's subtree, as a condition an index serves.

Frappe's own User Permission condition (`ifnull(col,'')='' or col in (<subtree>)` unless strict mode
is on) stays in place and keeps the semantics; the hooks add a sargable condition beside it: for cases,
an equality on the ancestry column of the official's level (see ancestry.py), served by the
(<column>, status, modified) indexes; for members and unions, an IN-list on the indexed link.
"""

from collections import defaultdict

import frappe

from unioncase.hierarchy.ancestry import LEVEL_COLUMNS
from unioncase.hierarchy.scope import LEVELS, UNION, allowed_unions, sees_everything_unattached

WORKPLACE_UNION = LEVELS[-1]
# The bottom of a case's escalation chain: its officials keep reading the case while it is escalated.
ORIGIN_FIELD = "originating_union"
READ_PTYPES = ("read", "select", "print", "export", "report")

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
	return in_condition(doctype, SCOPE_FIELDS[doctype], unions)


def in_condition(doctype: str, column: str, unions: list[str]) -> str:
	values = ", ".join(frappe.db.escape(union, percent=False) for union in unions)
	return f"`tab{doctype}`.`{column}` in ({values})"


def grievance_query(user=None, doctype=None):
	"""Cases under the user's attachments, by the ancestry column of each attachment's level."""
	user = user or frappe.session.user
	if user == "Administrator":
		return ""
	attachments = frappe.db.sql(
		"""select permission.for_value as union_name, permission.hide_descendants, attached.level
		from `tabUser Permission` permission join `tabUnion` attached on attached.name = permission.for_value
		where permission.user = %s and permission.allow = 'Union'
			and (permission.apply_to_all_doctypes = 1 or permission.applicable_for = 'Grievance')""",
		user,
		as_dict=True,
	)
	if not attachments:
		return "" if sees_everything_unattached(user) else "1=0"
	unions_by_column = defaultdict(list)
	for attachment in attachments:
		if attachment.hide_descendants:
			columns = ("owning_union", ORIGIN_FIELD)
		elif attachment.level == WORKPLACE_UNION:
			# owned by the workplace union, or escalated from it (read-only; see has_scoped_permission)
			columns = (ORIGIN_FIELD,)
		else:
			columns = (LEVEL_COLUMNS[attachment.level],)
		for column in columns:
			unions_by_column[column].append(attachment.union_name)
	conditions = (in_condition("Grievance", column, unions) for column, unions in unions_by_column.items())
	return "({})".format(" or ".join(conditions))


def union_member_query(user=None, doctype=None):
	return scope_condition("Union Member", user)


def union_query(user=None, doctype=None):
	return scope_condition(UNION, user)


def has_scoped_permission(doc, ptype=None, user=None, debug=False):
	"""Refuse a document outside the user's subtree; True leaves the decision to the role permissions.

	(Controller hooks can only deny; newer Frappe reads None as a denial, so "no objection" is True.)
	"""
	unions = allowed_unions(user, doc.doctype)
	if unions is None:
		return True
	placed_in = doc.get(SCOPE_FIELDS[doc.doctype])
	if doc.doctype == UNION and (ptype == "create" or doc.is_new()):
		# A new union is placed by its parent: officials add unions below their own.
		placed_in = doc.parent_union
	if doc.doctype == "Grievance" and (ptype or "read") in READ_PTYPES and doc.get(ORIGIN_FIELD) in unions:
		return True
	if doc.doctype == "Grievance" and ptype == "create" and doc.is_new() and not placed_in:
		# Not placed yet: validation answers that the owning union is required, and checks the scope
		# again once it is set (placement.validate_grievance), so this is no way around it.
		return True
	return placed_in in unions
