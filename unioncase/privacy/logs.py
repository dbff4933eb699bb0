"""How long Frappe's logs keep what they quote of a case or a worker (Log Settings' clearing periods).

Notification subjects, emails, error traces and activity rows can quote a case's subject or a
worker's name. Each log in log_clearing.json is cleared by Frappe's daily log clean-up after its
period, and never later than the retention policy's period: a copy does not outlive the case
text. Installed on new sites, by a patch on old ones, and again whenever Privacy Settings change;
an admin's shorter period stays, a longer one is cut to the retention period.
"""

import json
from pathlib import Path

import frappe
from frappe.utils import cint

PERIODS = {
	doctype: days
	for doctype, days in json.loads((Path(__file__).parent / "log_clearing.json").read_text()).items()
	if not doctype.startswith("_")
}
LOG_SETTINGS = "Log Settings"


def clearing_periods(retention_days: int | None = None) -> dict[str, int]:
	if retention_days is None:
		retention_days = cint(frappe.db.get_single_value("Privacy Settings", "retention_days"))
	return {
		doctype: min(days, retention_days) if retention_days > 0 else days
		for doctype, days in PERIODS.items()
	}


def apply_log_clearing(retention_days: int | None = None):
	"""Log Settings rows for every log that can hold identity (existing shorter periods stay)."""
	settings = frappe.get_single(LOG_SETTINGS)
	existing = {row.ref_doctype: row for row in settings.logs_to_clear}
	for doctype, days in clearing_periods(retention_days).items():
		if not frappe.db.exists("DocType", doctype):
			continue
		row = existing.get(doctype)
		if row:
			row.days = min(cint(row.days) or days, days)
		else:
			settings.append("logs_to_clear", {"ref_doctype": doctype, "days": days})
	settings.flags.ignore_permissions = True
	settings.save()


def on_privacy_settings_update(doc, method=None):
	apply_log_clearing(cint(doc.retention_days))
