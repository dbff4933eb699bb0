"""Who sees the inbox and the conversation: the hierarchy's scope, applied to intake's doctypes.

An inbound message belongs to the case it made (visible to whoever may read the case) or, before that,
to its intake union; a case message belongs to its case.
"""

import frappe

from unioncase.hierarchy.permissions import grievance_query
from unioncase.hierarchy.scope import allowed_unions

GRIEVANCE = "Grievance"


def readable_cases(user: str | None) -> str | None:
	"""A subquery of the cases the user may read, or None when the hierarchy does not restrict them."""
	condition = grievance_query(user)
	if not condition:
		return None
	return f"select `tabGrievance`.name from `tabGrievance` where {condition}"


def inbound_message_query(user=None, doctype=None):
	user = user or frappe.session.user
	cases = readable_cases(user)
	unions = allowed_unions(user, "Inbound Message")
	if unions is None:
		return ""  # Administrator, or a role the hierarchy does not restrict
	own_union = "1=0"
	if unions:
		own_union = "`tabInbound Message`.`union` in ({})".format(
			", ".join(frappe.db.escape(union, percent=False) for union in unions)
		)
	case_clause = f"`tabInbound Message`.grievance in ({cases})" if cases is not None else "1=1"
	return f"(({case_clause}) or (`tabInbound Message`.grievance is null and {own_union}))"


def case_message_query(user=None, doctype=None):
	cases = readable_cases(user or frappe.session.user)
	if cases is None:
		return ""
	return f"`tabCase Message`.grievance in ({cases})"


def has_inbound_permission(doc, ptype=None, user=None, debug=False):
	if doc.grievance:
		return bool(frappe.has_permission(GRIEVANCE, "read", doc.grievance, user=user))
	unions = allowed_unions(user, "Inbound Message")
	return unions is None or doc.union in unions


def has_case_message_permission(doc, ptype=None, user=None, debug=False):
	return bool(doc.grievance) and bool(frappe.has_permission(GRIEVANCE, "read", doc.grievance, user=user))


# Mail to workers (acknowledgements, replies) sits in Frappe's Email Queue with their address in its
# recipients and raw message: no one but Administrator lists or opens it, System Manager included.
TO_WORKERS = ("Contact Handle", "Case Message")


def email_queue_query(user=None, doctype=None):
	if (user or frappe.session.user) == "Administrator":
		return ""
	names = ", ".join(frappe.db.escape(doctype) for doctype in TO_WORKERS)
	return f"ifnull(`tabEmail Queue`.reference_doctype, '') not in ({names})"


def has_email_queue_permission(doc, ptype=None, user=None, debug=False):
	return (user or frappe.session.user) == "Administrator" or doc.reference_doctype not in TO_WORKERS
