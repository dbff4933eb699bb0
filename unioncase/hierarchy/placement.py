"""Where cases and members may sit in the tree."""

import frappe
from frappe import _
from frappe.query_builder.functions import Count

from unioncase.hierarchy.ancestry import set_case_ancestry
from unioncase.hierarchy.scope import LEVELS, UNION, allowed_unions
from unioncase.hierarchy.tree import is_within

WORKPLACE_UNION = LEVELS[-1]


def validate_union_level(doc):
	"""A union sits strictly below its parent's level, and its children strictly below it."""
	doc.is_group = 0 if doc.level == WORKPLACE_UNION else 1
	if doc.parent_union:
		parent_level = frappe.db.get_value(UNION, doc.parent_union, "level")
		if parent_level and LEVELS.index(doc.level) <= LEVELS.index(parent_level):
			frappe.throw(
				_("A {0} cannot be placed under {1}, which is a {2}.").format(
					_(doc.level), frappe.bold(doc.parent_union), _(parent_level)
				),
				title=_("Wrong level"),
			)
	if doc.is_new() or not doc.has_value_changed("level"):
		return
	child_levels = frappe.get_all(UNION, filters={"parent_union": doc.name}, pluck="level", distinct=True)
	for child_level in child_levels:
		if LEVELS.index(child_level) <= LEVELS.index(doc.level):
			frappe.throw(
				_("{0} cannot become a {1}: it has a {2} below it.").format(
					frappe.bold(doc.name), _(doc.level), _(child_level)
				),
				title=_("Wrong level"),
			)


def validate_move_in_scope(doc):
	"""Officials rearrange unions inside their part of the tree; moving it elsewhere is an admin's call."""
	if doc.is_new() or doc.flags.ignore_permissions or not doc.has_value_changed("parent_union"):
		return
	unions = allowed_unions(doctype=UNION)
	if unions is not None and doc.parent_union not in unions:
		frappe.throw(
			_("You can move {0} only under a union in your part of the hierarchy; {1} is outside it.").format(
				frappe.bold(doc.name), frappe.bold(doc.parent_union or _("the top of the tree"))
			),
			frappe.PermissionError,
			title=_("Outside your part of the hierarchy"),
		)


def workplace_union_of(union: str) -> str | None:
	return union if frappe.db.get_value(UNION, union, "level") == WORKPLACE_UNION else None


def validate_workplace_union(union: str, label: str):
	if frappe.db.get_value(UNION, union, "level") != WORKPLACE_UNION:
		frappe.throw(
			_("{0} must be a workplace union; {1} is not.").format(_(label), frappe.bold(union)),
			title=_("Not a workplace union"),
		)


def validate_member(doc):
	"""A member belongs to exactly one workplace union."""
	validate_workplace_union(doc.workplace_union, "Workplace Union")


def validate_grievance(doc):
	"""A case has an owning union; its workplace and member sit inside that union's subtree."""
	if not doc.owning_union:
		frappe.throw(
			_("A case needs an owning union: the workplace union, branch or federation handling it."),
			frappe.MandatoryError,
			title=_("Owning union missing"),
		)
	if doc.is_new() and not doc.flags.ignore_permissions:
		# the create check ran before the owning union was known (permissions.has_scoped_permission)
		if not frappe.has_permission(doc.doctype, "create", doc=doc):
			frappe.throw(
				_(
					"You can record a case only for a union in your part of the hierarchy; {0} is outside it."
				).format(frappe.bold(doc.owning_union)),
				frappe.PermissionError,
				title=_("Outside your part of the hierarchy"),
			)
	set_case_ancestry(doc)
	if doc.member and not doc.is_anonymous:
		member_union = frappe.db.get_value("Union Member", doc.member, "workplace_union")
		if doc.workplace_union and doc.workplace_union != member_union:
			frappe.throw(
				_("Member {0} belongs to {1}, not to {2}.").format(
					frappe.bold(doc.member), frappe.bold(member_union), frappe.bold(doc.workplace_union)
				),
				title=_("Wrong workplace union"),
			)
		doc.workplace_union = member_union
	if not doc.workplace_union:
		doc.workplace_union = workplace_union_of(doc.owning_union)
	if not doc.workplace_union:
		return
	validate_workplace_union(doc.workplace_union, "Workplace Union")
	if not is_within(UNION, doc.workplace_union, doc.owning_union):
		frappe.throw(
			_("Workplace union {0} is not part of {1}, which owns this case.").format(
				frappe.bold(doc.workplace_union), frappe.bold(doc.owning_union)
			),
			title=_("Workplace outside the owning union"),
		)
	if not doc.employer:
		doc.employer = frappe.db.get_value(UNION, doc.workplace_union, "employer")


def refuse_delete_with_open_cases(union: str):
	"""A union is not deleted while open cases are owned by it, sit at it, or were escalated from it."""
	grievance = frappe.qb.DocType("Grievance")
	open_cases = (
		frappe.qb.from_(grievance)
		.select(Count("*"))
		.where(grievance.status == "Open")
		.where(
			(grievance.owning_union == union)
			| (grievance.workplace_union == union)
			| (grievance.originating_union == union)
		)
	).run()[0][0]
	if open_cases:
		frappe.throw(
			_(
				"{0} still has {1} open cases. Resolve them or move them to another union before deleting it."
			).format(frappe.bold(union), open_cases),
			frappe.LinkExistsError,
			title=_("Union has open cases"),
		)
