"""Pseudonymous contact handles: how a worker is reached without any official seeing their address.

A case's handle holds the tracking code's hash and, when the worker gave one, their email or phone
number, encrypted (a Password field: Frappe keeps it in its encrypted store, never in the document, so
no list, form, report, export, version, print or error log can show it). No official role reads the
doctype at all; `resolve` is the only code that turns a handle into an address, for delivery.
"""

import frappe
from frappe.utils.password import get_decrypted_password

HANDLE = "Contact Handle"
TRACKING_PAGE, EMAIL, PHONE = "Tracking Page", "Email", "Phone"


def create(grievance: str, tracking_code_hash: str, address: str | None, kind: str | None) -> str:
	doc = frappe.get_doc(
		{
			"doctype": HANDLE,
			"grievance": grievance,
			"tracking_code_hash": tracking_code_hash,
			"address_kind": kind if address else TRACKING_PAGE,
			"address": address or None,
		}
	).insert(ignore_permissions=True)
	return doc.name


def for_case(grievance: str) -> dict | None:
	"""The case's handle without its address: name, how the worker is reachable, reachability."""
	return frappe.db.get_value(
		HANDLE,
		{"grievance": grievance},
		["name", "address_kind", "unreachable"],
		as_dict=True,
		order_by="creation asc",
	)


def case_for_code_hash(code_hash: str) -> str | None:
	return frappe.db.get_value(HANDLE, {"tracking_code_hash": code_hash}, "grievance")


def resolve(handle: str) -> str | None:
	"""The address behind a handle, for the delivery job only."""
	return get_decrypted_password(HANDLE, handle, "address", raise_exception=False)


def mark_unreachable(handle: str, reason: str):
	frappe.db.set_value(HANDLE, handle, {"unreachable": 1, "unreachable_reason": reason})
