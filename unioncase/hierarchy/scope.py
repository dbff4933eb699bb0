"""An official's scope, defined once: the unions their User Permissions on Union attach them to, as one
query criterion per doctype and kind of access.

Lists add the criterion to their WHERE clause (permission_query_conditions); `has_permission` checks a
document by the same criterion (`WHERE name = %s AND <criterion>`, and for a placement not stored yet
the same criterion on a one-row table of its values, hierarchy/permissions.py). So what a list shows
and what a form opens cannot disagree, as in frappe/crm's org-hierarchy criterion.

An attachment is a User Permission (Allow: Union) that applies to the doctype, as Frappe reads it:
`applicable_for` empty (apply to all document types) or that doctype. Frappe's `hide_descendants`
limits it to the union itself. A user attached to anything sees, in each doctype, only what the
attachments applying to it give (possibly nothing); only a user attached to nothing and holding an
unrestricted role sees the tree.
"""

import frappe

UNION = "Union"

# Roles whose holders must be attached to a union: without a User Permission they see nothing.
OFFICIAL_ROLES = (
	"Confederation Official",
	"Federation Official",
	"Branch Official",
	"Workplace Union Official",
)

# The only roles that see the whole tree while no User Permission attaches them (Administrator always
# does); every other role, including any an admin adds later, sees nothing until attached.
UNRESTRICTED_ROLES = ("System Manager", "Union Administrator")

# The tree's levels, top first; a child sits strictly below its parent.
LEVELS = ("Confederation", "Federation", "Branch", "Workplace Union")
WORKPLACE_UNION = LEVELS[-1]
# Where a union of each level appears on a case it (or a union below it) owns (hierarchy/ancestry.py).
LEVEL_COLUMNS = dict(zip(LEVELS, ("confederation", "federation", "branch", "owning_union"), strict=True))
# The bottom of a case's escalation chain: its officials keep reading the case while it is escalated.
ORIGIN_FIELD = "originating_union"

# The column that places each scoped doctype in the tree.
SCOPE_FIELDS = {
	"Grievance": "owning_union",
	"Union Member": "workplace_union",
	UNION: "name",
}
# What reading a document covers; every other kind of access (write, create, delete, share, email,
# submit...) is for the owners of the document: for a case, its owning union's subtree.
READ_PTYPES = ("read", "select", "print", "export", "report")
NOTHING = "1=0"


def attachments(user: str | None = None, doctype: str | None = None) -> list[frappe._dict] | None:
	"""The user's attachments that apply to `doctype` (union, level, lft, rgt, hide_descendants), or
	None when the hierarchy does not restrict the user (attached to nothing, with an unrestricted role).
	"""
	user = user or frappe.session.user
	if user == "Administrator":
		return None
	rows = frappe.db.sql(
		"""select permission.for_value as union_name, permission.applicable_for,
			permission.hide_descendants, attached.level, attached.lft, attached.rgt
		from `tabUser Permission` permission
			left join `tabUnion` attached on attached.name = permission.for_value
		where permission.user = %s and permission.allow = %s""",
		(user, UNION),
		as_dict=True,
	)
	if not rows:
		return None if sees_everything_unattached(user) else []
	return [
		row
		for row in rows
		# an attachment to a union that no longer exists gives nothing (and still attaches the user)
		if row.level and (not row.applicable_for or row.applicable_for == doctype)
	]


def allowed_unions(user: str | None = None, doctype: str | None = None) -> list[str] | None:
	"""Unions the user's attachments to `doctype` cover (each a subtree, or the union alone with
	hide_descendants), or None when the hierarchy does not restrict the user."""
	attached = attachments(user, doctype)
	if attached is None:
		return None
	unions = {row.union_name for row in attached}
	subtrees = [row for row in attached if not row.hide_descendants]
	if subtrees:
		union = frappe.qb.DocType(UNION)
		condition = None
		for row in subtrees:
			inside = (union.lft >= row.lft) & (union.rgt <= row.rgt)
			condition = inside if condition is None else condition | inside
		unions.update(frappe.qb.from_(union).select(union.name).where(condition).run(pluck=True))
	return sorted(unions)


def scope_criterion(doctype: str, user: str | None = None, ptype: str | None = None) -> str:
	"""The SQL condition on `tab<doctype>` that holds exactly for the documents in the user's scope for
	`ptype` (read by default): "" when unrestricted, "1=0" for nothing."""
	attached = attachments(user, doctype)
	if attached is None:
		return ""
	if not attached:
		return NOTHING
	if doctype == "Grievance" and (ptype or "read") in READ_PTYPES:
		return case_read_criterion(attached)
	unions = allowed_unions(user, doctype)
	return in_condition(doctype, SCOPE_FIELDS[doctype], unions) if unions else NOTHING


def case_read_criterion(attached: list) -> str:
	"""Cases owned in, or escalated from, an attachment's subtree: the ancestry column of the
	attachment's level (ancestry.py keeps the owner at or above the originating union, so this is both),
	an equality the (<column>, status, modified) indexes serve."""
	unions_by_column = {}
	for row in attached:
		if row.hide_descendants:
			columns = (SCOPE_FIELDS["Grievance"], ORIGIN_FIELD)
		elif row.level == WORKPLACE_UNION:
			# owned by the workplace union, or escalated from it (read-only)
			columns = (ORIGIN_FIELD,)
		else:
			columns = (LEVEL_COLUMNS[row.level],)
		for column in columns:
			unions_by_column.setdefault(column, set()).add(row.union_name)
	conditions = (
		in_condition("Grievance", column, sorted(unions)) for column, unions in unions_by_column.items()
	)
	return "({})".format(" or ".join(conditions))


def in_condition(doctype: str, column: str, unions: list[str]) -> str:
	values = ", ".join(frappe.db.escape(union, percent=False) for union in unions)
	return f"`tab{doctype}`.`{column}` in ({values})"


def sees_everything_unattached(user: str) -> bool:
	"""Fail closed: without an attachment only the named unrestricted roles see the tree."""
	return user == "Administrator" or bool(set(frappe.get_roles(user)) & set(UNRESTRICTED_ROLES))


def clear_scope_cache():
	"""Forget every user's expanded User Permissions; Frappe expands tree permissions only when caching."""
	frappe.cache.delete_value("user_permissions")
