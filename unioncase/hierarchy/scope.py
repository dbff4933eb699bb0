"""An official's scope: the unions (a subtree per attachment) their User Permissions on Union grant."""

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


def allowed_unions(user: str | None = None, doctype: str | None = None) -> list[str] | None:
	"""Unions the user may see, or None when the hierarchy does not restrict them.

	Frappe has already expanded each User Permission on the Union tree to the whole subtree.
	"""
	from frappe.permissions import get_user_permissions

	user = user or frappe.session.user
	if user == "Administrator":
		return None
	permissions = get_user_permissions(user).get(UNION)
	if permissions:
		return sorted(
			{
				perm.get("doc")
				for perm in permissions
				if not perm.get("applicable_for") or perm.get("applicable_for") == doctype
			}
		)
	return None if sees_everything_unattached(user) else []


def sees_everything_unattached(user: str) -> bool:
	"""Fail closed: without an attachment only the named unrestricted roles see the tree."""
	return user == "Administrator" or bool(set(frappe.get_roles(user)) & set(UNRESTRICTED_ROLES))


def clear_scope_cache():
	"""Forget every user's expanded User Permissions; Frappe expands tree permissions only when caching."""
	frappe.cache.delete_value("user_permissions")
