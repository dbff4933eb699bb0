"""A sender matched to a Union Member, by normalised phone number or email address.

The match routes the case (the member's workplace union, when the channel names no union) and, only
when the worker reported with their name and agreed to the Consent Text on the form, makes the member
the case's reporter: the identity rules the app already has (consent recorded with `record_consent`,
identity fields behind their permission level) then apply to it. An anonymous report is never linked.
"""

import frappe

from unioncase.hierarchy.tree import is_within
from unioncase.intake.phone import normalize_phone

MEMBER = "Union Member"


def match_member(email: str | None = None, phone: str | None = None) -> frappe._dict | None:
	"""The one member with this phone or email address (a shared address matches nobody)."""
	filters = []
	if phone:
		try:
			filters.append({"phone": normalize_phone(phone, "Phone")})
		except frappe.ValidationError:
			frappe.clear_messages()
	if email:
		filters.append({"email": email.strip().lower()})
	for condition in filters:
		members = frappe.get_all(MEMBER, filters=condition, fields=["name", "workplace_union"], limit=2)
		if len(members) == 1:
			return members[0]
	return None


def may_link(member: frappe._dict | None, union: str | None) -> bool:
	"""Whether the member can be the reporter of a case owned by `union` (their union is inside it)."""
	return bool(
		member
		and member.workplace_union
		and union
		and (member.workplace_union == union or is_within("Union", member.workplace_union, union))
	)
