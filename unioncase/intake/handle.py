"""Pseudonymous contact handles: how a worker is reached without any official seeing their address.

A case's handle holds the tracking code's hash and, when the worker gave one, their email or phone
number, encrypted (a Password field: Frappe keeps it in its encrypted store, never in the document, so
no list, form, report, export, version, print or error log can show it). No official role reads the
doctype at all; `resolve` is the only code that turns a handle into an address, for delivery.
"""

import hashlib
import hmac

import frappe
from frappe.utils.password import get_decrypted_password, get_encryption_key

from unioncase.intake.tracking import ALPHABET

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


def address_hash(address: str) -> str:
	"""A keyed hash of a number (or address): finds the sender's case and conversation without storing
	the address in the clear. The same for every channel, so WhatsApp and SMS find the same worker."""
	key = hashlib.sha256(f"unioncase-contact:{get_encryption_key()}".encode()).digest()
	return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()


PSEUDONYM_PREFIX = {"WhatsApp": "WA", "SMS": "SMS"}


def pseudonym(handle: str, channel: str) -> str:
	"""What officials call the worker of a case: derived from the case's own handle (so two cases of
	one number get two pseudonyms: none links a worker's reports), never from the number."""
	key = hashlib.sha256(f"unioncase-pseudonym:{get_encryption_key()}".encode()).digest()
	digest = int.from_bytes(hmac.new(key, handle.encode(), hashlib.sha256).digest()[:8], "big")
	code = "".join(ALPHABET[(digest >> (5 * position)) & 31] for position in range(6))
	return f"{PSEUDONYM_PREFIX.get(channel, 'W')}-{code}"
