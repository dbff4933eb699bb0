"""The language a worker used, and what is sent to them in it.

The reporting and tracking pages speak Bahasa Indonesia or English (the worker's switch); what the
union sends the worker afterwards (the acknowledgement of a web report, the mail around a reply) is in
that language, not in the site's or the background job's. Where no channel told us (a mail), the
site's language stays.
"""

from contextlib import contextmanager

import frappe

WORKER_LANGUAGES = ("id", "en")
DEFAULT = "id"
HANDLE = "Contact Handle"
INBOUND = "Inbound Message"


@contextmanager
def speaking(language: str | None):
	"""`_()` in `language` inside the block (Bahasa Indonesia for one the pages do not speak)."""
	previous = getattr(frappe.local, "lang", None)
	frappe.local.lang = language if language in WORKER_LANGUAGES else DEFAULT
	try:
		yield
	finally:
		frappe.local.lang = previous


def of_case(grievance: str) -> str | None:
	"""The language the worker used for this case: their contact handle's where it keeps one, else the
	one their web report was written in; None when no channel told us."""
	if frappe.get_meta(HANDLE).has_field("language"):
		kept = frappe.db.get_value(HANDLE, {"grievance": grievance}, "language")
		if kept in WORKER_LANGUAGES:
			return kept
	from unioncase.intake import inbox

	first = frappe.get_all(
		INBOUND,
		filters={"grievance": grievance, "channel": "Web", "kind": "New Report"},
		pluck="name",
		order_by="creation asc",
		limit=1,
	)
	if not first:
		return None
	spoken = inbox.payload_of(frappe.get_doc(INBOUND, first[0])).get("language")
	return spoken if spoken in WORKER_LANGUAGES else None
