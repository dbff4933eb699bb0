"""A case's coarse status; open cases are the ones officials work on (and the index serves)."""

from frappe.utils import today

OPEN = "Open"
FINISHED = ("Resolved", "Closed")


def set_status_dates(doc):
	"""A resolved or closed case carries the day it was resolved."""
	if doc.status in FINISHED and not doc.resolved_on:
		doc.resolved_on = today()
