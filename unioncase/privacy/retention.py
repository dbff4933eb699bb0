"""The retention policy: personal data leaves finished cases once an admin-set period has passed.

A case is due when its status is Resolved, Closed or Rejected, it has not been redacted yet, and it
finished (resolved_on; for a rejected case without one, its last change) more than
Privacy Settings > retention_days ago. The daily job redacts due cases in batches, committing each
batch; a case that fails is rolled back alone, reported in the Error Log and picked up again on the
next run. Running twice redacts nothing twice (redacted_on marks what is done).
"""

import frappe
from frappe import _
from frappe.utils import add_days, cint, now_datetime, today

from unioncase.privacy.redaction import GRIEVANCE, RETENTION_POLICY, redact_case

SETTINGS = "Privacy Settings"
FINISHED_STATUSES = ("Resolved", "Closed", "Rejected")
# One run stops after this many batches, so a first run on a large backlog cannot hold the worker for hours.
MAX_BATCHES_PER_RUN = 50


def apply_retention_policy():
	"""Scheduled daily (hooks.py)."""
	settings = frappe.get_single(SETTINGS)
	if not settings.enable_retention:
		return None
	return redact_due_cases(settings)


def redact_due_cases(settings=None) -> dict:
	settings = settings or frappe.get_single(SETTINGS)
	run_id = frappe.generate_hash(length=12)
	batch_size = cint(settings.batch_size) or 200
	redacted, failed = [], []
	for _batch in range(MAX_BATCHES_PER_RUN):
		cases = due_cases(cint(settings.retention_days), batch_size, exclude=failed)
		if not cases:
			break
		for case in cases:
			if redact_one(case, settings, run_id):
				redacted.append(case)
			else:
				failed.append(case)
		frappe.db.commit()  # each batch is kept even if a later one fails
	summary = {"run_id": run_id, "redacted": len(redacted), "failed": len(failed)}
	frappe.db.set_single_value(
		SETTINGS,
		{
			"last_run_on": now_datetime(),
			"last_run_id": run_id,
			"last_run_redacted": len(redacted),
			"last_run_failed": len(failed),
		},
	)
	frappe.db.commit()
	return summary


def due_cases(retention_days: int, limit: int, exclude=()) -> list[str]:
	cutoff = add_days(today(), -retention_days)
	grievance = frappe.qb.DocType(GRIEVANCE)
	finished_on = frappe.query_builder.functions.Coalesce(
		grievance.resolved_on, frappe.query_builder.functions.Date(grievance.modified)
	)
	query = (
		frappe.qb.from_(grievance)
		.select(grievance.name)
		.where(grievance.status.isin(FINISHED_STATUSES))
		.where(grievance.redacted_on.isnull())
		.where(finished_on < cutoff)
		.orderby(grievance.name)
		.limit(limit)
	)
	if exclude:
		query = query.where(grievance.name.notin(list(exclude)))
	return query.run(pluck=True)


def redact_one(case: str, settings, run_id: str) -> bool:
	frappe.db.savepoint("redact_case")
	try:
		redact_case(
			case,
			RETENTION_POLICY,
			run_id,
			case_text=bool(settings.redact_case_text),
			delete_comments=bool(settings.delete_case_comments),
			delete_attachments=bool(settings.delete_attachments),
		)
		return True
	except Exception:
		frappe.db.rollback(save_point="redact_case")
		frappe.log_error(
			title=_("Retention: case {0} could not be redacted").format(case),
			reference_doctype=GRIEVANCE,
			reference_name=case,
		)
		return False
