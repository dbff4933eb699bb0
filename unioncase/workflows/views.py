"""Small endpoints for the officials' list views."""

import frappe

from unioncase.hierarchy.scope import UNION


@frappe.whitelist()
def my_unions() -> list[str]:
	"""The unions the user is attached to directly: "escalated to us" means owned by one of these."""
	return frappe.get_all(
		"User Permission",
		filters={"user": frappe.session.user, "allow": UNION},
		pluck="for_value",
		distinct=True,
	)
