"""The request guard: identity fields stay out of every list-type request, whoever the client is.

Frappe strips permlevel fields from documents and from the selected columns of lists, but v15 still
lets a user filter, sort and group by them, and counts, sidebars, link search, charts and number cards
take field names from the request. Every field reference of a request on a protected DocType (or one
of its child tables) is normalised first: case, backticks, a `tabX`. prefix, a child `table.field` or
a `link_field.field`, a function around it and an alias after it. An identity field is refused for a
user without the identity level with one message whatever the case, quoting or value asked for (a
refused filter on a known phone number reads exactly like one on an unknown one); selected identity
columns are dropped, as Frappe drops the others a user may not read. Any other name must be a field
of the DocType spelt as the DocType spells it, or it is refused with a 4xx naming it (MariaDB would
match it whatever its case, and Frappe's own checks would not, or would answer with an SQL error).

The guard runs as the first before_request hooks, and Frappe runs those before it authenticates API
keys and OAuth bearer tokens (frappe/app.py `init_request`, then `validate_auth`), so it authenticates
the request first, as Frappe is about to: token, bearer and cookie clients get the same answers.
"""

import json
import re
from collections.abc import Iterator
from urllib.parse import unquote

import frappe
from frappe import _

from unioncase.privacy.audit import log_identity_access
from unioncase.privacy.fields import (
	PROTECTED_DOCTYPES,
	SEALED_DOCTYPE,
	has_identity_access,
	identity_fieldnames,
	identity_tables,
)
from unioncase.privacy.identity import IDENTITY_PERMLEVEL, IDENTITY_ROLE

# Request keys that name the DocType their fields belong to, in this order: a number card sent along
# is {"doctype": "Number Card", "document_type": "Grievance"}, a link search {"doctype": "Union Member",
# "reference_doctype": "Grievance"} (the form it is on).
CONTEXT_KEYS = ("document_type", "doctype", "ref_doctype", "reference_doctype", "dt")
DOCTYPE_PATHS = ("/api/resource/", "/api/v2/document/", "/api/v2/doctype/")
# Request keys whose whole value is field expressions (select, sort, group, search, aggregate).
SELECTED_KEYS = ("fields", "columns", "fields_to_fetch")
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
	"stats",
	"aggregate_on",
	"aggregate_on_field",
	"aggregate_function_based_on",
	"based_on",
	"value_based_on",
	"group_by_based_on",
)
# {doctype: [fieldname, ...]}: the Data Export tool and the import template
MAPPED_KEYS = ("select_columns", "export_fields")
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
# Columns every table has, whatever its meta says.
STANDARD_FIELDS = frozenset(
	(
		"name",
		"owner",
		"creation",
		"modified",
		"modified_by",
		"idx",
		"docstatus",
		"parent",
		"parentfield",
		"parenttype",
		"_assign",
		"_liked_by",
		"_comments",
		"_user_tags",
		"_seen",
		"_comment_count",
	)
)
# Names the list sidebar groups by that are not columns.
PSEUDO_FIELDS = {"field": frozenset(("assigned_to",))}
LAYOUT_FIELDTYPES = frozenset(
	("Section Break", "Column Break", "Tab Break", "HTML", "Button", "Image", "Fold", "Heading")
)
SQL_WORDS = frozenset(
	"as asc desc distinct null nulls first last and or not is in like between case when then else end"
	" true false".split()
)
STRING_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
TRAILING_ALIAS = re.compile(r"\s+as\s+(?:`[^`]*`|\w+)\s*$", re.IGNORECASE)
# [table.]name[(]: `tabGrievance`.`reporter_phone`, member.full_name, count(, *
REFERENCE = re.compile(r"(?<![\w`])(?:(`[^`]*`|[A-Za-z_]\w*)\s*\.\s*)?(`[^`]*`|\*|[A-Za-z_]\w*)(\s*\()?")


def authenticate():
	"""before_request, first: an API-key or OAuth client is its user before any guard looks.

	Frappe's own validate_auth, which it calls again right after these hooks (same result); a bad
	token is refused here as there (401)."""
	if frappe.get_request_header("Authorization"):
		from frappe.auth import validate_auth

		validate_auth()


def guard_identity_queries():
	"""before_request: normalise and check every field reference of a request on a protected DocType."""
	if not frappe.form_dict:
		return
	refuse_identity_links()
	form = dict(frappe.form_dict)
	for key, kept in check_form(form, request_context()).items():
		frappe.form_dict[key] = json.dumps(kept) if isinstance(form[key], str) else kept
	log_identity_export()


def request_context() -> str | None:
	"""The DocType a request's own fields belong to: its doctype key, its path, or a document sent."""
	form = dict(frappe.form_dict)
	for key in CONTEXT_KEYS:
		if isinstance(form.get(key), str):
			return form[key]
	request = getattr(frappe.local, "request", None)
	path = unquote(request.path) if request else ""
	for prefix in DOCTYPE_PATHS:
		if path.startswith(prefix):
			return path[len(prefix) :].split("/")[0]
	# a chart or a number card sent as a document: the top-level filters are on its doctype
	return next(found_doctypes(form), None)


def found_doctypes(value) -> Iterator[str]:
	value = parsed(value)
	if isinstance(value, dict):
		for key in CONTEXT_KEYS:
			if isinstance(value.get(key), str):
				yield value[key]
				break
		for item in value.values():
			if isinstance(item, dict | str):
				yield from found_doctypes(item)


def check_form(form: dict, doctype: str | None) -> dict[str, list]:
	"""Check each key of a request (or of a document sent along) against the doctype it is about.

	Returns the selections to narrow: {key: the selected fields without hidden identity columns}."""
	narrowed = {}
	if doctype and is_child_of_hidden(doctype, form.get("parent")):
		refuse(parent_of(doctype, form.get("parent")))
	for key, value in form.items():
		value = parsed(value)
		if key in SELECTED_KEYS:
			kept = checked_selection(doctype, value)
			if kept is not None and frappe.flags.identity_for_everyone:
				refuse(identity_owner(doctype))
			if kept is not None:
				narrowed[key] = kept
		elif key in FILTER_KEYS:
			for table, fieldname in filter_references(value):
				check_reference(doctype, table, fieldname, key)
		elif key in EXPRESSION_KEYS:
			for table, fieldname in expression_references(value):
				check_reference(doctype, table, fieldname, key)
		elif key in MAPPED_KEYS and isinstance(value, dict):
			for mapped_doctype, fieldnames in value.items():
				for table, fieldname in expression_references(fieldnames):
					check_reference(mapped_doctype, table, fieldname, key)
		elif isinstance(value, dict):  # a document sent along, e.g. a number card or chart
			check_form(value, next(found_doctypes(value), doctype))
	return narrowed


def checks_doctype(doctype: str | None) -> bool:
	return bool(doctype) and (doctype in checked_doctypes())


def checked_doctypes() -> set[str]:
	"""The protected DocTypes, their child tables and the sealed record: every reference is checked."""
	if "checked_doctypes" not in frappe.local.cache:
		names = {*PROTECTED_DOCTYPES, SEALED_DOCTYPE}
		for doctype in PROTECTED_DOCTYPES:
			names.update(df.options for df in frappe.get_meta(doctype).get_table_fields())
		frappe.local.cache["checked_doctypes"] = names
	return frappe.local.cache["checked_doctypes"]


def is_child_of_hidden(doctype: str, parent: str | None) -> bool:
	"""A list of an identity-level child table (who the custodians are) is identity itself."""
	return any(
		doctype in identity_tables(protected) and not may_use_identity(protected)
		for protected in PROTECTED_DOCTYPES
		if not parent or parent == protected
	)


def parent_of(doctype: str, parent: str | None) -> str:
	return parent or next(p for p in PROTECTED_DOCTYPES if doctype in identity_tables(p))


def checked_selection(doctype: str | None, fields) -> list | None:
	"""The selected fields without the identity columns the user may not read (None: unchanged)."""
	if isinstance(fields, str):
		fields = [field.strip() for field in fields.split(",")]
	if not isinstance(fields, list) or not checks_doctype(doctype):
		return None
	kept = []
	for field in fields:
		hidden = False
		# v16's aggregate fields are {"COUNT": "*", "as": "total"} (compat.aggregate)
		expression = [v for k, v in field.items() if k != "as"] if isinstance(field, dict) else field
		expression = report_view_column(expression) or expression
		for table, fieldname in expression_references(expression):
			hidden = resolve(doctype, table, fieldname, "fields") or hidden
		if not hidden:
			kept.append(field)
	if len(kept) == len(fields):
		return None
	return kept or ["name"]


def report_view_column(field) -> str | None:
	"""The report view's column as its user settings save it, [fieldname, doctype]: `tabDocType`.fieldname."""
	if isinstance(field, list | tuple) and len(field) == 2 and all(isinstance(part, str) for part in field):
		fieldname, doctype = field
		if doctype in checked_doctypes() and "`" not in fieldname + doctype:
			return f"`tab{doctype}`.`{fieldname}`"
	return None


def check_reference(doctype: str | None, table: str | None, fieldname: str, key: str):
	if checks_doctype(doctype) and resolve(doctype, table, fieldname, key):
		refuse(identity_owner(doctype))


def resolve(doctype: str, table: str | None, fieldname: str, key: str) -> bool:
	"""Normalise one reference; refuse a name that is no field. True: it is identity the user may not use."""
	if fieldname == "*":
		return False
	path = reference_path(doctype, table, fieldname)
	if path is None or not is_field(path[-1][0], path[-1][1], key):
		refuse_unknown(named_reference(table, fieldname), doctype)
	if any(
		is_identity_field(step_doctype, step_field) and not may_use_identity(identity_owner(step_doctype))
		for step_doctype, step_field in path
	):
		return True
	if not is_exact(doctype, table, fieldname, key):
		# MariaDB matches names whatever their case, Frappe's own checks do not: one spelling only
		refuse_unknown(named_reference(table, fieldname), doctype)
	return False


def named_reference(table: str | None, fieldname: str) -> str:
	return f"{table.strip('`')}.{fieldname.strip('`')}" if table else fieldname.strip("`")


def is_exact(doctype: str, table: str | None, fieldname: str, key: str) -> bool:
	"""Spelt as the DocType spells it (backticks only around an expression's names, not a filter's)."""
	if key in FILTER_KEYS and "`" in fieldname:
		return False
	target = doctype
	if table is not None:
		bare = table.strip("`")
		if bare.startswith("tab"):
			if bare[3:] != doctype and bare[3:] not in child_doctypes(doctype):
				return False
			target = bare[3:]
		else:
			field = frappe.get_meta(doctype).get_field(bare)
			if field is None:
				return False
			target = field.options
	name = fieldname.strip("`")
	return (
		name in STANDARD_FIELDS
		or name in PSEUDO_FIELDS.get(key, ())
		or frappe.get_meta(target).get_field(name) is not None
	)


def may_use_identity(doctype: str) -> bool:
	# a saved configuration serves everyone who opens it, so nobody may put identity in one
	return not frappe.flags.identity_for_everyone and has_identity_access(doctype)


def reference_path(doctype: str, table: str | None, fieldname: str) -> list[tuple[str, str]] | None:
	"""[(doctype, fieldname), ...] from the request's doctype to the column named, lower-cased."""
	fieldname = fieldname.strip("`").strip().lower()
	if table is None:
		return [(doctype, fieldname)]
	table = table.strip("`").strip()
	meta = frappe.get_meta(doctype)
	if table.lower().startswith("tab"):
		named = table[3:].lower()
		if named == doctype.lower():
			return [(doctype, fieldname)]
		for df in meta.get_table_fields():
			if df.options.lower() == named:
				return [(doctype, df.fieldname), (df.options, fieldname)]
		return None
	field = meta_field(doctype, table)
	if field is None or field.fieldtype not in ("Link", "Table", "Table MultiSelect") or not field.options:
		return None
	return [(doctype, field.fieldname), (field.options, fieldname)]


def meta_field(doctype: str, fieldname: str):
	fieldname = fieldname.lower()
	return next((df for df in frappe.get_meta(doctype).fields if df.fieldname.lower() == fieldname), None)


def is_field(doctype: str, fieldname: str, key: str) -> bool:
	if fieldname in STANDARD_FIELDS or fieldname in PSEUDO_FIELDS.get(key, ()):
		return True
	field = meta_field(doctype, fieldname)
	return field is not None and field.fieldtype not in LAYOUT_FIELDTYPES


def is_identity_field(doctype: str, fieldname: str) -> bool:
	field = meta_field(doctype, fieldname)
	return bool(field) and field.permlevel == IDENTITY_PERMLEVEL and identity_owner(doctype) is not None


def identity_owner(doctype: str) -> str | None:
	"""Whose identity level guards a doctype's fields: its own, or its protected parent's."""
	if doctype in PROTECTED_DOCTYPES:
		return doctype
	if doctype == SEALED_DOCTYPE:
		return "Grievance"
	return next((p for p in PROTECTED_DOCTYPES if doctype in child_doctypes(p)), None)


def child_doctypes(doctype: str) -> set[str]:
	return {df.options for df in frappe.get_meta(doctype).get_table_fields()}


def filter_references(filters) -> Iterator[tuple[str | None, str]]:
	"""(table, fieldname) of each condition; a condition's own doctype is its table."""
	filters = parsed(filters)
	if isinstance(filters, dict):
		for fieldname in filters:
			yield from expression_references(fieldname)
	elif isinstance(filters, str):
		yield from expression_references(filters)
	elif isinstance(filters, list | tuple):
		if filters and isinstance(filters[0], str):
			# one condition: [doctype, field, op, value], [field, op, value] or [field, value] (a value
			# may itself be a list: ["name", "in", ["A", "B"]])
			if len(filters) >= 4 and isinstance(filters[1], str):
				for table, fieldname in expression_references(filters[1]):
					yield (table or f"tab{filters[0]}"), fieldname
			else:
				yield from expression_references(filters[0])
			return
		for condition in filters:
			yield from filter_references(condition)


def expression_references(value) -> Iterator[tuple[str | None, str]]:
	"""Every column an expression names: functions, keywords, literals and aliases left out."""
	value = parsed(value)
	if isinstance(value, list | tuple):
		for item in value:
			yield from expression_references(item)
		return
	if isinstance(value, dict):  # {fieldname: value}, as set_value takes it
		for fieldname in value:
			yield from expression_references(fieldname)
		return
	if not isinstance(value, str):
		return
	text = STRING_LITERAL.sub(" ", value)
	for part in text.split(","):
		part = TRAILING_ALIAS.sub("", part)
		for match in REFERENCE.finditer(part):
			table, name, call = match.groups()
			if call or (table is None and name.lower() in SQL_WORDS):
				continue  # a function's name (its arguments match on their own), or a keyword
			yield table, name


def parsed(value):
	if isinstance(value, str) and value[:1] in ("[", "{"):
		try:
			return json.loads(value)
		except ValueError:
			return value
	return value


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


def refuse(doctype: str):
	frappe.throw(
		_("Identity fields of {0} can be used only by users with the {1} role.").format(
			_(doctype), _(IDENTITY_ROLE)
		),
		frappe.PermissionError,
		title=_("Worker Identity Protected"),
	)


def refuse_unknown(fieldname: str, doctype: str):
	frappe.throw(
		_("{0} is not a field of {1}.").format(frappe.bold(fieldname), _(doctype)),
		frappe.ValidationError,
		title=_("Invalid Field"),
	)


def log_identity_export():
	"""An export that includes identity fields is logged for the custodian who ran it."""
	if not any(is_request_for(method) for method in EXPORT_METHODS):
		return
	doctype = request_context()
	if doctype not in PROTECTED_DOCTYPES or not has_identity_access(doctype):
		return
	wanted = set()
	for key in SELECTED_KEYS:
		wanted.update(
			name.strip("`").lower() for _t, name in expression_references(frappe.form_dict.get(key))
		)
	for key in MAPPED_KEYS:
		mapped = parsed(frappe.form_dict.get(key))
		if isinstance(mapped, dict):
			wanted.update(name.strip("`").lower() for _t, name in expression_references(mapped.get(doctype)))
	if identity_fieldnames(doctype) & wanted:
		log_identity_access("Export", doctype)


def is_request_for(method: str) -> bool:
	if frappe.form_dict.get("cmd") == method:
		return True
	request = getattr(frappe.local, "request", None)
	return bool(request) and request.path.rstrip("/").endswith(f"/api/method/{method}")


def upload_attachments_as_private():
	"""before_request: an upload to a case or a member is private from the start."""
	if frappe.form_dict.get("doctype") in PROTECTED_DOCTYPES and is_request_for("upload_file"):
		frappe.form_dict.is_private = 1


def refuse_identity_in_saved_config(doc, method=None):
	"""validate of Dashboard Chart, Number Card, Report, Kanban Board and List View Settings: their
	field names come from the database, not the request, and serve whoever opens them."""
	doctype, form = saved_query(doc)
	if not checks_doctype(doctype):
		return
	frappe.flags.identity_for_everyone = True
	try:
		check_form(form, doctype)
	finally:
		frappe.flags.identity_for_everyone = False


def saved_query(doc) -> tuple[str | None, dict]:
	"""The doctype a saved configuration queries, and its field references as request keys."""
	if doc.doctype in ("Dashboard Chart", "Number Card"):
		keys = (*EXPRESSION_KEYS, *FILTER_KEYS)
		return doc.document_type, {key: doc.get(key) for key in keys if doc.get(key)}
	if doc.doctype == "Kanban Board":
		fields = parsed(doc.fields) or []
		return doc.reference_doctype, {"field": doc.field_name, "fields": fields, "filters": doc.filters}
	if doc.doctype == "List View Settings":
		fields = parsed(doc.fields) or []
		return doc.name, {
			"fields": [row.get("fieldname") if isinstance(row, dict) else row for row in fields]
		}
	if doc.doctype == "Report":
		return doc.ref_doctype, report_builder_query(doc.ref_doctype, parsed(doc.json) or {})
	return None, {}


def report_builder_query(doctype: str, settings: dict) -> dict:
	"""A saved Report Builder view: columns are [fieldname, doctype] pairs, group-by a dict."""
	columns = []
	for column in (settings.get("fields") or []) + (settings.get("columns") or []):
		if isinstance(column, list | tuple) and len(column) >= 2:
			name = str(column[0])
			columns.append(name if "." in name else f"`tab{column[1]}`.{name}")
		elif isinstance(column, str):
			columns.append(column)
	group_by = settings.get("group_by") or {}
	if isinstance(group_by, dict):
		group_by = [group_by.get(key) for key in ("group_by", "aggregate_on") if group_by.get(key)]
	return {
		"fields": columns,
		"filters": settings.get("filters"),
		"order_by": settings.get("order_by"),
		"group_by": group_by,
	}


def get_list(doctype: str, **query) -> list:
	"""frappe.get_list for the app's own code: identity follows the request guard's rules.

	Frappe v15 keeps some identity columns in an in-process get_list (see compat.py); this is the one
	list helper UnionCase's reports, charts and methods use on a protected DocType."""
	keys = (*SELECTED_KEYS, *FILTER_KEYS, *EXPRESSION_KEYS)
	narrowed = check_form({key: value for key, value in query.items() if key in keys}, doctype)
	if "fields" in narrowed:
		query["fields"] = narrowed["fields"]
	return frappe.get_list(doctype, **query)
