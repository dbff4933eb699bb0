"""One check for every UnionCase DocType: each value has the type its field declares and stays inside the
limits in field_limits.json, before any controller code reads it (a `before_validate` doc event).

Frappe itself enforces the varchar `length` of one-line fields, but not the size of text fields, the
range of numbers, or that a date parses (a bad date reached the deadline code as a 500). A refused value
is a ValidationError (HTTP 417) whose message names the field's label, in the user's language.
"""

import datetime
import json
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

import frappe
from dateutil import parser
from frappe import _
from frappe.utils import cstr

APP = "unioncase"
TEXT_TYPES = ("Small Text", "Text", "Text Editor", "Long Text", "Code")
# one-line fields stored as varchar: Frappe's own length check applies; the same limit is used here
VARCHAR_TYPES = ("Data", "Link", "Dynamic Link", "Select", "Read Only", "Color", "Autocomplete", "Phone")
NUMBER_TYPES = ("Int", "Float", "Currency", "Percent", "Rating", "Duration")
DATE_TYPES = ("Date", "Datetime")
DEFAULT_VARCHAR = 140


@cache
def limits() -> dict:
	return json.loads((Path(__file__).parent / "field_limits.json").read_text())


def limit_for(doctype: str, df) -> dict:
	return {
		**limits()["by_fieldtype"].get(df.fieldtype, {}),
		**limits()["by_field"].get(doctype, {}).get(df.fieldname, {}),
	}


def is_app_doctype(doctype: str) -> bool:
	return frappe.get_meta(doctype).module in frappe.get_module_list(APP)


def validate_field_limits(doc, method=None):
	"""doc_events "*" before_validate: refuse the first value of the document (or its rows) out of bounds."""
	if not is_app_doctype(doc.doctype):
		return
	check_document(doc)
	for row in doc.get_all_children():
		check_document(row, row_of=doc)


def check_document(doc, row_of=None):
	for df in frappe.get_meta(doc.doctype).fields:
		value = doc.get(df.fieldname)
		if value is None or value == "":
			continue
		problem = field_problem(doc.doctype, df, value)
		if problem:
			label = _(df.label or df.fieldname)
			if row_of is not None:
				label = _("{0} in row {1} of {2}").format(
					label, doc.idx, _(row_of.meta.get_label(doc.parentfield))
				)
			frappe.throw(problem.format(frappe.bold(label)), frappe.ValidationError, title=_("Invalid value"))


def field_problem(doctype: str, df, value) -> str | None:
	"""The translated message (with {0} for the label) if `value` does not fit the field, else None."""
	limit = limit_for(doctype, df)
	if df.fieldtype in TEXT_TYPES or df.fieldtype in VARCHAR_TYPES:
		if not isinstance(value, str | int | float | Decimal):
			return _("{0} must be text.")
		maximum = limit.get("max_length") or (
			(df.get("length") or DEFAULT_VARCHAR) if df.fieldtype in VARCHAR_TYPES else None
		)
		if maximum and len(cstr(value)) > maximum:
			return _("{0} is too long: at most {1} characters, this has {2}.").format(
				"{0}", maximum, len(cstr(value))
			)
	elif df.fieldtype == "Check":
		if cstr(value).lower() not in ("0", "1", "true", "false"):
			return _("{0} must be 0 or 1.")
	elif df.fieldtype in NUMBER_TYPES:
		return number_problem(df, value, limit)
	elif df.fieldtype in DATE_TYPES:
		return date_problem(df, value, limit)
	return None


def number_problem(df, value, limit: dict) -> str | None:
	if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
		return _("{0} must be a number.")
	try:
		number = Decimal(cstr(value).strip().replace(",", "")) if isinstance(value, str) else Decimal(value)
	except InvalidOperation:
		return _("{0} must be a number.")
	if not number.is_finite():
		return _("{0} must be a number.")
	if df.fieldtype == "Int" and number != number.to_integral_value():
		return _("{0} must be a whole number.")
	low, high = limit.get("min"), limit.get("max")
	if (low is not None and number < Decimal(str(low))) or (high is not None and number > Decimal(str(high))):
		return _("{0} must be between {1} and {2}.").format("{0}", low, high)
	return None


def date_problem(df, value, limit: dict) -> str | None:
	is_datetime = df.fieldtype == "Datetime"
	try:
		parsed = parse_date(value)
	except (ValueError, TypeError, OverflowError):
		if is_datetime:
			return _("{0} is not a valid date and time (use YYYY-MM-DD HH:MM:SS).")
		return _("{0} is not a valid date (use YYYY-MM-DD).")
	low, high = limit.get("min"), limit.get("max")
	day = parsed.date() if isinstance(parsed, datetime.datetime) else parsed
	if (low and day < datetime.date.fromisoformat(low[:10])) or (
		high and day > datetime.date.fromisoformat(high[:10])
	):
		return _("{0} must be between {1} and {2}.").format("{0}", low[:10], high[:10])
	return None


def parse_date(value) -> datetime.date:
	"""As Frappe reads a date: a date object, ISO text, else dateutil (which raises on nonsense)."""
	if isinstance(value, datetime.date):
		return value
	if not isinstance(value, str) or not value.strip():
		raise ValueError(value)
	try:
		return datetime.datetime.fromisoformat(value.strip())
	except ValueError:
		return parser.parse(value)
