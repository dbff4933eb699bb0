"""Identity fields stay behind their permission level on every path, not only where Frappe checks it.

Frappe strips permlevel fields from documents and from the selected columns of lists, but v15 still
lets a user filter, sort and group by them, and counts, sidebars, link search, charts and number cards
take field names from the request. One request-level guard refuses any identity field anywhere in a
list-type request from a user without the identity level, with a message that does not depend on the
values asked for (a refused filter on a known phone number reads exactly like one on an unknown one).
"""

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import frappe
from frappe import _
from frappe.utils import cint

from unioncase.privacy.audit import log_identity_access
from unioncase.privacy.identity import (
	IDENTITY_FIELDS,
	IDENTITY_PERMLEVEL,
	IDENTITY_ROLE,
	PRIVACY_ADMIN_ROLES,
)
from unioncase.privacy.masking import mask_contacts_in_text

PROTECTED_DOCTYPES = tuple(IDENTITY_FIELDS)
# where a confidential case's reporter is kept (see confidential.py)
SEALED_DOCTYPE = "Confidential Identity"
# Request keys that name a doctype, and the API paths that carry one.
DOCTYPE_KEYS = ("doctype", "document_type", "ref_doctype", "reference_doctype", "parent", "dt")
DOCTYPE_PATHS = ("/api/resource/", "/api/v2/document/", "/api/v2/doctype/")
# Request keys whose whole value is field expressions (select, sort, group, search, aggregate).
SELECTED_KEYS = ("fields", "columns")
EXPRESSION_KEYS = (
	"order_by",
	"sort_by",
	"group_by",
	"field",
	"fieldname",
	"fieldnames",
	"searchfield",
	"search_field",
	"pluck",
	"aggregate_on",
	"aggregate_on_field",
	"aggregate_function_based_on",
	"based_on",
	"value_based_on",
	"group_by_based_on",
	"select_columns",
	"export_fields",
)
# Request keys that hold filters: only their field names are expressions, their values are data.
FILTER_KEYS = (
	"filters",
	"or_filters",
	"filters_json",
	"dynamic_filters_json",
	"current_filters",
	"export_filters",
)
EXPORT_METHODS = (
	"frappe.desk.reportview.export_query",
	"frappe.core.doctype.data_export.exporter.export_data",
	"frappe.core.doctype.data_import.data_import.download_template",
)
LINKED_WITH_METHODS = ("frappe.desk.form.linked_with.get", "frappe.desk.form.linked_with.get_linked_docs")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# What a Version keeps of a changed identity field: that it changed, not from what to what.
VERSION_MARKER = "***"
# `reporter_name': 'Siti'` or `full_name = "Siti"`: an identity value named in a trace
IDENTITY_VALUE_IN_TEXT = re.compile(
	r"(?P<key>\b(?:{})\b['\"]?\s*[:=]\s*)(?P<quote>['\"])(?:(?!(?P=quote)).)*(?P=quote)".format(
		"|".join(sorted({field for fields in IDENTITY_FIELDS.values() for field in fields}))
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


def strip_identity_from_response(response, request=None):
	"""after_request: a write answers with the saved document (save, insert, set_value, REST POST/PUT,
	workflow actions), which Frappe does not strip as it strips reads; identity fields leave it here."""
	if frappe.session.user == "Administrator" or response.mimetype != "application/json":
		return
	body = response.get_data(as_text=True)
	hidden = {
		doctype
		for doctype in PROTECTED_DOCTYPES
		if json.dumps(doctype) in body and not has_identity_access(doctype)
	}
	if not hidden:
		return
	data = json.loads(body)
	if strip_documents(data, {doctype: identity_fieldnames(doctype) for doctype in hidden}):
		response.set_data(json.dumps(data, default=str))


def strip_documents(data, fields_by_doctype: dict[str, set[str]]) -> bool:
	"""Remove identity keys from every document dict in a JSON answer; True when something was removed."""
	removed = False
	if isinstance(data, dict):
		for fieldname in fields_by_doctype.get(data.get("doctype"), ()):
			if data.pop(fieldname, None) is not None:
				removed = True
		for value in data.values():
			removed = strip_documents(value, fields_by_doctype) or removed
	elif isinstance(data, list):
		for value in data:
			removed = strip_documents(value, fields_by_doctype) or removed
	return removed


def guard_identity_queries():
	"""before_request: refuse identity fields in a list-type request from a user without the level."""
	if not frappe.form_dict or frappe.session.user == "Administrator":
		return
	refuse_identity_links()
	doctypes = request_doctypes()
	hidden = {doctype for doctype in doctypes if not has_identity_access(doctype)}
	if not hidden:
		log_identity_export(doctypes)
		return
	forbidden = set().union(*(identity_fieldnames(doctype) for doctype in hidden))
	tables = set().union(*(identity_tables(doctype) for doctype in hidden))
	if set(found_doctypes(dict(frappe.form_dict))) & tables:
		refuse(sorted(hidden)[0])
	for key, value in list(frappe.form_dict.items()):
		if key in SELECTED_KEYS:
			drop_selected(key, value, forbidden, tables)
		elif forbidden & set(referenced_fields(key, value)) or names_table(key, value, tables):
			refuse(sorted(hidden)[0])


def names_table(key: str, value, tables: set[str]) -> bool:
	"""A field or filter that reaches into an identity-level child table (`tabChild`.`field`)."""
	if key not in FILTER_KEYS + EXPRESSION_KEYS and not isinstance(parsed(value), dict):
		return False
	text = value if isinstance(value, str) else json.dumps(value)
	return any(table in text for table in tables)


def refuse_identity_links():
	"""A member's connections list the cases that link to them by an identity field (who reported)."""
	if not any(is_request_for(method) for method in LINKED_WITH_METHODS):
		return
	target = frappe.form_dict.get("doctype")
	for doctype in PROTECTED_DOCTYPES:
		meta = frappe.get_meta(doctype)
		links_here = any(
			df.fieldtype == "Link" and df.options == target and df.permlevel == IDENTITY_PERMLEVEL
			for df in meta.fields
		)
		if links_here and not has_identity_access(doctype):
			refuse(doctype)


def request_doctypes() -> set[str]:
	names = set(found_doctypes(dict(frappe.form_dict)))
	request = getattr(frappe.local, "request", None)
	path = unquote(request.path) if request else ""
	for prefix in DOCTYPE_PATHS:
		if path.startswith(prefix):
			names.add(path[len(prefix) :].split("/")[0])
	# a query on an identity-level child table is a query on its parent's identity
	names.update(doctype for doctype in PROTECTED_DOCTYPES if names & identity_tables(doctype))
	return names & set(PROTECTED_DOCTYPES)


def found_doctypes(value) -> Iterator[str]:
	value = parsed(value)
	if isinstance(value, dict):
		for key, item in value.items():
			if key in DOCTYPE_KEYS and isinstance(item, str):
				yield item
			elif isinstance(item, dict | str):
				yield from found_doctypes(item)


def referenced_fields(key: str, value) -> Iterator[str]:
	value = parsed(value)
	if key in FILTER_KEYS:
		yield from filter_fieldnames(value)
	elif key in EXPRESSION_KEYS or key in SELECTED_KEYS:
		yield from identifiers(value)
	elif isinstance(value, dict):  # a document sent along, e.g. a number card or chart
		for inner_key, inner_value in value.items():
			yield from referenced_fields(inner_key, inner_value)


def filter_fieldnames(filters) -> Iterator[str]:
	if isinstance(filters, dict):
		for fieldname in filters:
			yield from identifiers(fieldname)
	elif isinstance(filters, str):
		yield from identifiers(filters)
	elif isinstance(filters, list | tuple):
		if filters and all(not isinstance(item, list | tuple | dict) for item in filters):
			# one condition: [doctype, field, op, value], [field, op, value] or [field, value]
			yield from identifiers(filters[1] if len(filters) >= 4 else filters[0])
			return
		for condition in filters:
			yield from filter_fieldnames(condition)


def identifiers(value) -> Iterator[str]:
	if isinstance(value, str):
		yield from IDENTIFIER.findall(value)
	elif isinstance(value, dict):
		for key, item in value.items():
			yield from identifiers(key)
			yield from identifiers(item)
	elif isinstance(value, list | tuple):
		for item in value:
			yield from identifiers(item)


def parsed(value):
	if isinstance(value, str) and value[:1] in ("[", "{"):
		try:
			return json.loads(value)
		except ValueError:
			return value
	return value


def drop_selected(key: str, value, forbidden: set[str], tables: set[str]):
	"""Drop identity columns from the selected fields, as Frappe does for the plain ones."""
	fields = parsed(value)
	if isinstance(fields, str):
		fields = [field.strip() for field in fields.split(",")]
	if not isinstance(fields, list):
		return
	kept = [
		field
		for field in fields
		if not forbidden & set(identifiers(field)) and not any(table in json.dumps(field) for table in tables)
	]
	if len(kept) == len(fields):
		return
	kept = kept or ["name"]
	frappe.form_dict[key] = json.dumps(kept) if isinstance(value, str) else kept


def refuse(doctype: str):
	frappe.throw(
		_("Identity fields of {0} can be used only by users with the {1} role.").format(
			_(doctype), _(IDENTITY_ROLE)
		),
		frappe.PermissionError,
		title=_("Worker Identity Protected"),
	)


def log_identity_export(doctypes: set[str]):
	"""An export that includes identity fields is logged for the custodian who ran it."""
	if not any(is_request_for(method) for method in EXPORT_METHODS):
		return
	for doctype in doctypes:
		wanted = set()
		for key in (*SELECTED_KEYS, "select_columns", "export_fields"):
			wanted.update(referenced_fields(key, frappe.form_dict.get(key)))
		if identity_fieldnames(doctype) & wanted:
			log_identity_access("Export", doctype)


def is_request_for(method: str) -> bool:
	if frappe.form_dict.get("cmd") == method:
		return True
	request = getattr(frappe.local, "request", None)
	return bool(request) and request.path.rstrip("/").endswith(f"/api/method/{method}")


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


def upload_attachments_as_private():
	"""before_request: an upload to a case or a member is private from the start."""
	if frappe.form_dict.get("doctype") in PROTECTED_DOCTYPES and is_request_for("upload_file"):
		frappe.form_dict.is_private = 1


def scrub_error_log(doc, method=None):
	"""Error Log before_insert: phone numbers and emails in a trace are masked, and identity values
	shown by name (a dict or a local variable in a trace with context) are hidden, before it is stored."""
	for field in ("error", "method"):
		if doc.get(field):
			text = IDENTITY_VALUE_IN_TEXT.sub(rf"\g<key>\g<quote>{VERSION_MARKER}\g<quote>", doc.get(field))
			doc.set(field, mask_contacts_in_text(text))
