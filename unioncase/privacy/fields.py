"""Identity fields stay behind their permission level wherever Frappe keeps a copy or a way to them.

Who may read them (has_identity_access), and what stores or exposes them: versions, the Deleted
Document bin, prints, property setters and custom fields, notifications, attachments, error logs.
The request guard is in guard.py, the strip of write answers in response.py.
"""

import json
import re
import shutil
from pathlib import Path

import frappe
from frappe import _
from frappe.utils import cint

from unioncase.privacy.identity import (
	IDENTITY_FIELDS,
	IDENTITY_PERMLEVEL,
	PRIVACY_ADMIN_ROLES,
)
from unioncase.privacy.masking import mask_contacts_in_text

PROTECTED_DOCTYPES = tuple(IDENTITY_FIELDS)
# where a confidential case's reporter is kept (see confidential.py)
SEALED_DOCTYPE = "Confidential Identity"
# What a Version keeps of a changed identity field: that it changed, not from what to what.
VERSION_MARKER = "***"
# A website user's own names, as a failed job's arguments or a request's form show them.
USER_NAME_KEYS = ("first_name", "middle_name", "last_name", "username", "mobile_no", "sender_full_name")
# `reporter_name': 'Siti'` or `full_name = "Siti"`: an identity value named in a trace
IDENTITY_VALUE_IN_TEXT = re.compile(
	r"(?P<key>\b(?:{})\b['\"]?\s*[:=]\s*)(?P<quote>['\"])(?:(?!(?P=quote)).)*(?P=quote)".format(
		"|".join(
			sorted({field for fields in IDENTITY_FIELDS.values() for field in fields} | set(USER_NAME_KEYS))
		)
	)
)
# DocField properties an admin could change to expose an identity field.
EXPOSING_PROPERTIES = ("permlevel", "in_global_search", "in_list_view", "in_preview", "print_hide")


def has_identity_access(doctype: str, user: str | None = None) -> bool:
	user = user or frappe.session.user
	if user == "Administrator":
		return True
	return IDENTITY_PERMLEVEL in frappe.get_meta(doctype).get_permlevel_access("read", user=user)


def is_privacy_admin() -> bool:
	return frappe.session.user == "Administrator" or bool(set(frappe.get_roles()) & set(PRIVACY_ADMIN_ROLES))


def identity_fieldnames(doctype: str) -> set[str]:
	"""Every field at the identity level (the shared list plus fields such as named custodians)."""
	meta = frappe.get_meta(doctype)
	return {df.fieldname for df in meta.fields if df.permlevel == IDENTITY_PERMLEVEL}


def identity_tables(doctype: str) -> set[str]:
	"""Child doctypes held in identity-level table fields (Frappe checks only the child's own levels)."""
	meta = frappe.get_meta(doctype)
	return {df.options for df in meta.get_table_fields() if df.permlevel == IDENTITY_PERMLEVEL}


def hide_identity(doc, method=None, print_settings=None):
	"""before_print: a print format (even a custom Jinja one) gets no identity the user may not read."""
	if has_identity_access(doc.doctype):
		return
	for fieldname in identity_fieldnames(doc.doctype):
		doc.set(fieldname, None)


def strip_identity_from_version(doc, method=None):
	"""Version before_insert: the history says an identity field changed, never from what to what."""
	if doc.ref_doctype not in PROTECTED_DOCTYPES or not doc.data:
		return
	fieldnames = identity_fieldnames(doc.ref_doctype)
	data = json.loads(doc.data)
	for change in data.get("changed") or []:
		if change[0] in fieldnames:
			change[1:] = [VERSION_MARKER, VERSION_MARKER]
	for key in ("added", "removed", "row_changed"):
		data[key] = [row for row in data.get(key) or [] if row[0] not in fieldnames]
	doc.data = frappe.as_json(data, indent=None, separators=(",", ":"))


def forget_identity_on_delete(doc, method=None):
	"""on_trash: Frappe files a deleted document in the Deleted Document bin as it is in memory."""
	fieldnames = (
		IDENTITY_FIELDS["Grievance"] if doc.doctype == SEALED_DOCTYPE else identity_fieldnames(doc.doctype)
	)
	for fieldname in fieldnames:
		doc.set(fieldname, None)


def refuse_exposing_identity(doc, method=None):
	"""Property Setter validate: an identity field cannot be lowered, listed, searched or printed, and
	no other field can be made to copy one in."""
	if doc.property == "fetch_from" and doc.doc_type and doc.field_name:
		field = frappe.get_meta(doc.doc_type).get_field(doc.field_name)
		if field and field.permlevel != IDENTITY_PERMLEVEL and fetches_identity(doc.doc_type, doc.value):
			refuse_fetch(doc.field_name)
	if (
		doc.doc_type in PROTECTED_DOCTYPES
		and doc.property in EXPOSING_PROPERTIES
		and doc.field_name in identity_fieldnames(doc.doc_type)
	):
		frappe.throw(
			_("{0} holds a worker's identity: its {1} cannot be changed.").format(
				frappe.bold(doc.field_name), frappe.bold(doc.property)
			),
			title=_("Worker Identity Protected"),
		)


def refuse_identity_fetch(doc, method=None):
	"""Custom Field validate: a field below the identity level cannot copy an identity value in."""
	if cint(doc.permlevel) != IDENTITY_PERMLEVEL and fetches_identity(doc.dt, doc.fetch_from):
		refuse_fetch(doc.label or doc.fieldname)


def fetches_identity(doctype: str, fetch_from: str | None) -> bool:
	link_fieldname, _dot, source_fieldname = (fetch_from or "").partition(".")
	link = frappe.get_meta(doctype).get_field(link_fieldname)
	source_doctype = link.options if link else None
	return link_fieldname in identity_fieldnames(doctype) or (
		source_doctype in PROTECTED_DOCTYPES and source_fieldname in identity_fieldnames(source_doctype)
	)


def refuse_fetch(label: str):
	frappe.throw(
		_("{0} would copy a worker's identity into a field others can read.").format(frappe.bold(label)),
		title=_("Worker Identity Protected"),
	)


def refuse_identity_in_notification(doc, method=None):
	"""Notification validate: identity reaches an email or message only masked, and names never."""
	if doc.document_type not in PROTECTED_DOCTYPES:
		return
	text = "\n".join(doc.get(field) or "" for field in ("subject", "message", "message_type"))
	text = re.sub(r"mask_(?:phone|email)\(\s*doc\.\w+\s*\)", "", text)
	for fieldname in identity_fieldnames(doc.document_type):
		if re.search(
			rf"doc\.{fieldname}\b|doc\.get\(\s*[\"']{fieldname}[\"']|doc\[\s*[\"']{fieldname}[\"']", text
		):
			frappe.throw(
				_(
					"A notification cannot show {0}. Use mask_phone(doc.field) or mask_email(doc.field) for contacts."
				).format(frappe.bold(fieldname)),
				title=_("Worker Identity Protected"),
			)


def make_attachment_private(doc, method=None):
	"""File before_insert and before_validate: whatever is attached to a case or a member is private."""
	if doc.attached_to_doctype not in PROTECTED_DOCTYPES or doc.is_folder or doc.is_private:
		return
	if doc.is_new() and (doc.file_url or "").startswith("/files/"):
		# Frappe saved it as a public file in its own before_insert: it moves to the private files
		move_to_private_files(doc)
	doc.is_private = 1


def move_to_private_files(doc):
	file_name = doc.file_url.rsplit("/", 1)[-1]
	source = Path(frappe.get_site_path("public", "files", file_name))
	target = Path(frappe.get_site_path("private", "files", file_name))
	if target.exists():
		target = target.with_name(f"{target.stem}-{frappe.generate_hash(length=8)}{target.suffix}")
	if frappe.db.exists("File", {"file_url": doc.file_url}):
		shutil.copyfile(source, target)  # Frappe reused another document's public file of that content
	else:
		shutil.move(source, target)
	doc.file_url = f"/private/files/{target.name}"


def scrub_error_log(doc, method=None):
	"""Error Log before_insert: phone numbers and emails in a trace and in its metadata (a failed job's
	arguments, a request's form) are masked, and identity values shown by name (a dict or a local
	variable in a trace with context, a user's names) are hidden, before it is stored."""
	for field in ("error", "method", "metadata"):
		if doc.get(field):
			text = IDENTITY_VALUE_IN_TEXT.sub(rf"\g<key>\g<quote>{VERSION_MARKER}\g<quote>", doc.get(field))
			doc.set(field, mask_contacts_in_text(text))
