"""Removing a worker's personal data from a case or a member record, leaving the statistics.

What each kind of data becomes (one rule for retention, withdrawal and erasure):

- identity fields (privacy/identity.py): emptied; the member link is cut, so the case no longer
  points at the person. A member record keeps a placeholder name (the field is mandatory).
- case text (subject, description, remedy, closure notes) may name the worker: replaced by a marker
  under the retention policy and on erasure; kept on withdrawal, where the case may still be open.
- comments (all types) and communications on the case: deleted (they quote the worker);
  attachments: deleted when the policy says so (always on erasure), files removed from disk, no
  Deleted Document copy kept.
- the global search entry (where an admin indexed case fields): removed.
- Version rows (the change history): kept, with the old and new values of every redacted field
  replaced by the marker, so the history of states and dates survives without the values.
- statistics stay: kind, category, severity, unions, employer, dates, workers affected, gender,
  outcome, back pay, satisfaction.

Every redaction writes with frappe.db.set_value (no new Version holding the values) and adds a
Personal Data Redaction Log row naming the fields, never their values.
"""

import json

import frappe
from frappe import _
from frappe.utils import now_datetime

from unioncase.privacy.fields import SEALED_DOCTYPE
from unioncase.privacy.identity import IDENTITY_FIELDS

GRIEVANCE = "Grievance"
MEMBER = "Union Member"
LOG = "Personal Data Redaction Log"

RETENTION_POLICY = "Retention Policy"
CONSENT_WITHDRAWN = "Consent Withdrawn"
DELETION_REQUEST = "Deletion Request"

# Free text of a case that may identify the worker.
CASE_TEXT_FIELDS = ("subject", "description", "remedy", "closure_notes")
# Mandatory member fields get a placeholder instead of nothing, so the record can still be saved.
MEMBER_PLACEHOLDER_FIELDS = ("full_name",)


def redaction_marker() -> str:
	return _("[redacted]")


def redact_case(
	name: str,
	rule: str,
	run_id: str | None = None,
	case_text: bool = True,
	delete_comments: bool = True,
	delete_attachments: bool = True,
	withdrawn_on=None,
) -> str:
	"""Redact one case; returns the log entry's name."""
	marker = redaction_marker()
	values = dict.fromkeys(IDENTITY_FIELDS[GRIEVANCE])
	if case_text:
		values.update(dict.fromkeys(CASE_TEXT_FIELDS, marker))
	redacted = list(values)
	values["_comments"] = None  # the cached last comments shown in the list view
	if withdrawn_on:
		# not marked redacted: the retention policy still has the case text to clear later
		values.update({"consent_given": 0, "consent_withdrawn_on": withdrawn_on})
	else:
		values["redacted_on"] = now_datetime()
	frappe.db.set_value(GRIEVANCE, name, values, update_modified=False)
	forget_in_global_search(GRIEVANCE, name)
	counts = {"versions_scrubbed": scrub_versions(GRIEVANCE, name, redacted, marker)}
	if frappe.db.exists(SEALED_DOCTYPE, name):  # a confidential case's reporter, sealed off the case
		frappe.db.delete(SEALED_DOCTYPE, {"name": name})
		counts["sealed_identity_deleted"] = 1
	if delete_attachments:  # first: deleting a file adds an "Attachment Removed" comment naming it
		counts["files_deleted"] = delete_files_of(GRIEVANCE, name)
	if delete_comments:
		counts["comments_deleted"] = delete_comments_of(GRIEVANCE, name)
		counts["communications_deleted"] = delete_communications_of(GRIEVANCE, name)
	return write_log(GRIEVANCE, name, rule, redacted, run_id, counts)


def redact_member(name: str, rule: str, run_id: str | None = None) -> str:
	"""Redact a member record's identity (erasure); membership statistics (union, gender, dates) stay."""
	marker = redaction_marker()
	values = {
		field: marker if field in MEMBER_PLACEHOLDER_FIELDS else None for field in IDENTITY_FIELDS[MEMBER]
	}
	redacted = list(values)
	values.update({"redacted_on": now_datetime(), "_comments": None})
	frappe.db.set_value(MEMBER, name, values, update_modified=False)
	forget_in_global_search(MEMBER, name)
	counts = {
		"versions_scrubbed": scrub_versions(MEMBER, name, redacted, marker),
		"files_deleted": delete_files_of(MEMBER, name),
		"comments_deleted": delete_comments_of(MEMBER, name),
		"communications_deleted": delete_communications_of(MEMBER, name),
	}
	return write_log(MEMBER, name, rule, redacted, run_id, counts)


def redact_member_cases(member: str, rule: str, run_id: str | None = None, withdrawn_on=None) -> int:
	"""Redact the member's identity from every case they reported; on erasure, the case text too."""
	erasure = rule == DELETION_REQUEST
	cases = cases_reported_by(members=[member])
	for case in cases:
		redact_case(
			case,
			rule,
			run_id,
			case_text=erasure,
			delete_comments=erasure,
			delete_attachments=erasure,
			withdrawn_on=withdrawn_on,
		)
	return len(cases)


def cases_reported_by(members=(), emails=()) -> list[str]:
	"""Cases whose reporter is one of the members or emails, on the case or sealed off a confidential one."""
	cases = set()
	for doctype, case_field in ((GRIEVANCE, "name"), (SEALED_DOCTYPE, "grievance")):
		for field, values in (("member", members), ("reporter_email", emails)):
			if values:
				cases.update(frappe.get_all(doctype, filters={field: ["in", list(values)]}, pluck=case_field))
	return sorted(cases)


def forget_in_global_search(doctype: str, name: str):
	"""Drop the search index entry, which holds the old text where an admin indexed these fields."""
	from frappe.utils.global_search import delete_for_document

	delete_for_document(frappe._dict(doctype=doctype, name=name))


def scrub_versions(doctype: str, name: str, fields: list[str], marker: str) -> int:
	"""Replace the old and new values of `fields` in the document's change history."""
	fields = set(fields)
	scrubbed = 0
	for version in frappe.get_all(
		"Version", filters={"ref_doctype": doctype, "docname": name}, fields=["name", "data"]
	):
		data = json.loads(version.data or "{}")
		if not scrub_changes(data, fields, marker):
			continue
		frappe.db.set_value("Version", version.name, "data", json.dumps(data), update_modified=False)
		scrubbed += 1
	return scrubbed


def scrub_changes(data: dict, fields: set[str], marker: str) -> bool:
	"""Scrub a Version's data in place: `changed` rows are [field, old, new]; child-row changes nest them."""
	touched = False
	for change in data.get("changed") or []:
		if change[0] in fields and (change[1] or change[2]):
			change[1:] = [marker if value else value for value in change[1:]]
			touched = True
	for row_change in data.get("row_changed") or []:
		touched = scrub_changes({"changed": row_change[-1]}, fields, marker) or touched
	return touched


def delete_comments_of(doctype: str, name: str) -> int:
	"""Every comment on the document (typed notes, but also "Attachment Removed" and the like naming files).

	Rows are deleted directly: nothing links to a comment, and frappe.delete_doc would queue one
	background job per row (delete_dynamic_links), which floods the queue on a large batch.
	"""
	comments = frappe.get_all(
		"Comment", filters={"reference_doctype": doctype, "reference_name": name}, pluck="name"
	)
	if comments:
		frappe.db.delete("Comment", {"name": ["in", comments]})
	return len(comments)


def delete_communications_of(doctype: str, name: str) -> int:
	"""Emails and messages about the document, with their timeline links and attachments."""
	communications = set(
		frappe.get_all(
			"Communication", filters={"reference_doctype": doctype, "reference_name": name}, pluck="name"
		)
	)
	communications.update(
		frappe.get_all(
			"Communication Link",
			filters={"link_doctype": doctype, "link_name": name, "parenttype": "Communication"},
			pluck="parent",
		)
	)
	if not communications:
		return 0
	for communication in communications:
		delete_files_of("Communication", communication)
	names = ["in", list(communications)]
	frappe.db.delete("Communication Link", {"parenttype": "Communication", "parent": names})
	frappe.db.delete("Comment", {"reference_doctype": "Communication", "reference_name": names})
	frappe.db.delete("Communication", {"name": names})
	return len(communications)


def delete_files_of(doctype: str, name: str) -> int:
	"""Attachments, through File's own deletion so the file leaves the disk (unless another record shares it)."""
	files = frappe.get_all(
		"File", filters={"attached_to_doctype": doctype, "attached_to_name": name}, pluck="name"
	)
	for file in files:
		frappe.delete_doc("File", file, ignore_permissions=True, force=True, delete_permanently=True)
	return len(files)


def write_log(doctype: str, name: str, rule: str, fields: list[str], run_id: str | None, counts: dict) -> str:
	return (
		frappe.get_doc(
			{
				"doctype": LOG,
				"reference_doctype": doctype,
				"reference_name": name,
				"rule": rule,
				"fields_redacted": ", ".join(fields),
				"redacted_on": now_datetime(),
				"run_id": run_id,
				**counts,
			}
		)
		.insert(ignore_permissions=True)
		.name
	)
