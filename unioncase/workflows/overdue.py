"""The overdue job: flag open cases whose next deadline has passed, then alert or escalate.

Runs every 15 minutes (hooks.py): response targets can be a few working hours, and the selection is
one range read on the (is_overdue, status, next_due_on) index, a few milliseconds even at a million
cases (benchmarks/overdue.py). Cases are handled in batches of `overdue_batch_size`, each committed;
a flagged case leaves the selection, so a rerun (or an overlapping run) never alerts twice.
A case that fails is still flagged (so one bad case cannot stall every run) and the failure goes to
the Error Log with the case named.
"""

import frappe
from frappe import _
from frappe.utils import cint, format_datetime, get_datetime, get_url_to_form, now_datetime

from unioncase.workflows.deadlines import SETTINGS, get_policies, match_policy
from unioncase.workflows.escalation import escalate as escalate_case
from unioncase.workflows.escalation import officials_of

INDEX = "overdue_status_next_due"
# Selection of the job; the benchmark and the index test EXPLAIN this very statement.
DUE_CASES_SQL = (
	"select name from `tabGrievance` "
	"where status = 'Open' and is_overdue = 0 and next_due_on <= %(now)s "
	"order by next_due_on limit %(limit)s"
)
DEFAULT_BATCH_SIZE = 500
# Batches per run: the rest waits for the next run rather than holding a worker for long.
MAX_BATCHES = 40
SAVEPOINT = "unioncase_overdue_case"


def flag_overdue_cases(now=None, batch_size: int | None = None) -> int:
	"""Scheduler entry point; returns how many cases it flagged."""
	now = get_datetime(now) if now else now_datetime()
	size = (
		batch_size or cint(frappe.db.get_single_value(SETTINGS, "overdue_batch_size")) or DEFAULT_BATCH_SIZE
	)
	flagged = 0
	policies = get_policies()
	for _batch in range(MAX_BATCHES):
		names = due_cases(now, size)
		for name in names:
			process_case(name, now, policies)
		frappe.db.commit()
		flagged += len(names)
		if len(names) < size:
			break
	return flagged


def due_cases(now, limit: int) -> list[str]:
	return [row[0] for row in frappe.db.sql(DUE_CASES_SQL, {"now": now, "limit": limit})]


def process_case(name: str, now, policies: list[dict]):
	frappe.db.savepoint(SAVEPOINT)
	try:
		doc = frappe.get_doc("Grievance", name)
		missed = missed_deadline(doc)
		doc.db_set({"is_overdue": 1, "overdue_since": doc.next_due_on}, update_modified=False)
		alert_officials(doc, missed)
	except Exception:
		frappe.db.rollback(save_point=SAVEPOINT)
		frappe.db.set_value("Grievance", name, {"is_overdue": 1, "overdue_since": now}, update_modified=False)
		log_failure(name)
		return
	policy = match_policy(doc, policies)
	if policy and policy.get("overdue_action") == "Escalate":
		# its own savepoint: a case that cannot go up (top of the tree, a stage without Escalate) keeps its alert
		frappe.db.savepoint(SAVEPOINT)
		try:
			escalate(doc, missed)
		except Exception:
			frappe.db.rollback(save_point=SAVEPOINT)
			log_failure(name)


def log_failure(name: str):
	frappe.log_error(
		title=_("Overdue case {0} could not be processed").format(name),
		reference_doctype="Grievance",
		reference_name=name,
	)


def missed_deadline(doc) -> str:
	if doc.response_due_on and not doc.responded_on and doc.response_due_on <= doc.next_due_on:
		return "Response"
	return "Resolution"


def alert_officials(doc, missed: str):
	"""A Notification Log and an email for each official of the owning union."""
	from frappe.desk.doctype.notification_log.notification_log import make_notification_logs

	officials = officials_of(doc.owning_union)
	if not officials:
		return
	due = doc.response_due_on if missed == "Response" else doc.resolution_due_on
	if missed == "Response":
		subject = _("Case {0} is overdue: no response by {1}").format(doc.name, format_datetime(due))
	else:
		subject = _("Case {0} is overdue: not resolved by {1}").format(doc.name, format_datetime(due))
	make_notification_logs(
		{
			"type": "Alert",
			"document_type": "Grievance",
			"document_name": doc.name,
			"subject": subject,
			"email_content": frappe.utils.escape_html(doc.subject),
			"from_user": "Administrator",
		},
		officials,
	)
	emails = frappe.get_all("User", filters={"name": ["in", officials]}, pluck="email")
	try:
		frappe.sendmail(
			recipients=emails,
			subject=subject,
			message=_("{0} ({1}) is overdue. Open the case: {2}").format(
				frappe.utils.escape_html(doc.subject),
				doc.owning_union,
				get_url_to_form("Grievance", doc.name),
			),
			reference_doctype="Grievance",
			reference_name=doc.name,
		)
	except frappe.OutgoingEmailError:
		pass  # no outgoing email account on this site: the Notification Log is the alert


def escalate(doc, missed: str):
	"""Hand the case up the tree through the lifecycle's escalation, with the missed deadline as reason."""
	reason = _("No response by the deadline") if missed == "Response" else _("Not resolved by the deadline")
	frappe.flags.escalated_as_overdue = True  # not a response (deadlines.update_deadlines)
	try:
		escalate_case(doc.name, reason)
	finally:
		frappe.flags.escalated_as_overdue = False
