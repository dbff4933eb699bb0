"""A confidential case: its reporter is known only to the Identity Custodians named on it.

On save, the reporter of a confidential case moves off the case into a Confidential Identity record
that no role may read. No list, report, export, search, print or history of the case can then show
it, to anyone. A named custodian (who must also hold the Identity Custodian role and be able to read
the case) sees it in the form and in print, and every such view is logged.
"""

import frappe
from frappe import _

from unioncase.privacy.audit import log_identity_access
from unioncase.privacy.fields import SEALED_DOCTYPE, has_identity_access
from unioncase.privacy.identity import IDENTITY_FIELDS, IDENTITY_ROLE

SEALED = SEALED_DOCTYPE
CASE = "Grievance"
REPORTER_FIELDS = IDENTITY_FIELDS[CASE]


def custodians_of(doc) -> list[str]:
	return sorted({row.user for row in doc.get("identity_custodians") or []})


def is_named_custodian(doc, user: str | None = None) -> bool:
	"""Named on the case, with the role, and able to read it. Administrator too must be named."""
	user = user or frappe.session.user
	return (
		user in custodians_of(doc)
		and IDENTITY_ROLE in frappe.get_roles(user)
		and frappe.has_permission(CASE, "read", doc=doc, user=user)
	)


def seal_identity(doc, method=None):
	"""Grievance validate: a confidential case keeps no reporter on itself."""
	before = None if doc.is_new() else doc.get_doc_before_save()
	was_confidential = bool(before and before.is_confidential)
	if doc.is_anonymous:
		doc.is_confidential = 0
	entered = {field: doc.get(field) for field in REPORTER_FIELDS if doc.get(field)}
	if was_confidential and not may_change_sealed(doc, before, entered):
		frappe.throw(
			_(
				"Only the custodians named on this confidential case can change its reporter, its custodians or whether it is confidential."
			),
			frappe.PermissionError,
			title=_("Confidential Case"),
		)
	if doc.is_confidential:
		validate_custodians(doc)
		doc.flags.identity_to_seal = entered
		for field in REPORTER_FIELDS:
			doc.set(field, None)
	elif was_confidential:
		# a named custodian lifted confidentiality (or the report became anonymous)
		doc.flags.unseal_identity = True
		if not doc.is_anonymous:
			for field, value in sealed_values(doc.name).items():
				doc.set(field, doc.get(field) or value)


def may_change_sealed(doc, before, entered: dict) -> bool:
	if is_named_custodian(before):
		return True
	if entered or not doc.is_confidential:
		# only a named custodian changes the reporter or lifts confidentiality (or anonymises)
		return False
	if custodians_of(doc) == custodians_of(before):
		return True
	# nobody named yet: any custodian who can read the case may name the first ones
	return not custodians_of(before) and has_identity_access(CASE)


def validate_custodians(doc):
	for user in custodians_of(doc):
		if IDENTITY_ROLE not in frappe.get_roles(user):
			frappe.throw(
				_("{0} cannot be a custodian of this case: they do not have the {1} role.").format(
					frappe.bold(user), _(IDENTITY_ROLE)
				),
				title=_("Confidential Case"),
			)


def store_sealed_identity(doc, method=None):
	"""Grievance on_update: keep what was entered in the sealed record, or drop it when unsealed."""
	if doc.flags.unseal_identity:
		frappe.delete_doc(SEALED, doc.name, ignore_permissions=True, ignore_missing=True)
	elif entered := doc.flags.identity_to_seal:
		sealed = (
			frappe.get_doc(SEALED, doc.name)
			if frappe.db.exists(SEALED, doc.name)
			else frappe.new_doc(SEALED).update({"grievance": doc.name})
		)
		sealed.update(entered)
		sealed.save(ignore_permissions=True)
	doc.flags.identity_to_seal = doc.flags.unseal_identity = None


def sealed_values(name: str) -> dict:
	values = frappe.db.get_value(SEALED, name, list(REPORTER_FIELDS), as_dict=True) or {}
	return {field: value for field, value in values.items() if value}


def reveal_to_custodian(doc, action: str):
	"""Show a named custodian the sealed reporter (form or print), and log that they saw it.

	Custodianship, confidentiality and scope are read from the stored case, never from `doc`: a print
	request may send a document of its own making (frappe.www.printview takes one).
	"""
	if not doc.get("name") or not frappe.db.exists(CASE, doc.name):
		return
	stored = frappe.get_doc(CASE, doc.name)
	if not stored.is_confidential or not is_named_custodian(stored):
		return
	if values := sealed_values(stored.name):
		doc.update(values)
		log_identity_access(action, CASE, stored.name)


def reveal_in_form(doc, method=None):
	"""Grievance onload (the Desk form)."""
	reveal_to_custodian(doc, "View")


def reveal_in_print(doc, method=None, print_settings=None):
	"""Grievance before_print."""
	reveal_to_custodian(doc, "Print")


def drop_sealed_identity(doc, method=None):
	"""Grievance on_trash."""
	frappe.delete_doc(SEALED, doc.name, ignore_permissions=True, ignore_missing=True)


def has_file_permission(doc, ptype=None, user=None, debug=False):
	"""File has_permission hook: a file of a confidential case is for its named custodians only.

	Otherwise Frappe's own File check decides: v15 takes the first hook's answer and would skip it.
	Downloads check the File controller instead (confidential_files.CaseFile), with the same rule.
	"""
	from frappe.core.doctype.file.file import has_permission as file_permission

	from unioncase.privacy.confidential_files import is_sealed_from

	if is_sealed_from(doc, user):
		return False
	return bool(file_permission(doc, ptype=ptype, user=user))
