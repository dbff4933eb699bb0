"""Removing a worker's personal data from a case or a member record, leaving the statistics.

What each kind of data becomes (one rule for retention, withdrawal and erasure):

- identity fields (privacy/identity.py): emptied; the member link is cut, so the case no longer
  points at the person. A member record keeps a placeholder name (the field is mandatory).
- case text: every free-text field a worker or an official fills (subject, description, remedy,
  closure notes, the worker's satisfaction comment, the escalation reason and each hop's reason)
  may name the worker: replaced by a marker under the retention policy and on erasure; kept on
  withdrawal, where the case may still be open.
- comments (all types), communications and the intake's messages on the case: deleted (they quote
  the worker); attachments: deleted when the policy says so (always on erasure), files removed from
  disk, no Deleted Document copy kept. The case's contact handle (the worker's address) is deleted;
  on withdrawal only its address goes, so the worker still follows the case with their code.
- the copies outside the case (copies.py): notifications, emails with their recipients, error logs
  and ToDo texts that point at it go with the case text (on withdrawal the identity is replaced in
  them); its search entry and queued search updates are removed.
- withdrawal: the case's consent fields are cleared (no time is kept on the case, so nothing an
  official reads matches it to the member's withdrawal); which member it was is kept only in a
  Withdrawn Reporter row no role reads, so a later erasure still finds the case.
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

from unioncase.privacy import copies
from unioncase.privacy.fields import SEALED_DOCTYPE
from unioncase.privacy.identity import IDENTITY_FIELDS

GRIEVANCE = "Grievance"
MEMBER = "Union Member"
LOG = "Personal Data Redaction Log"
WITHDRAWN_REPORTER = "Withdrawn Reporter"
HANDLE = "Contact Handle"
CONVERSATION = "Intake Conversation"

RETENTION_POLICY = "Retention Policy"
CONSENT_WITHDRAWN = "Consent Withdrawn"
DELETION_REQUEST = "Deletion Request"

# Free text of a case that may identify the worker: what officials and the worker type.
CASE_TEXT_FIELDS = (
	"subject",
	"description",
	"remedy",
	"closure_notes",
	"satisfaction_comment",
	"escalation_reason",
)
# Free text in the case's child tables.
CASE_CHILD_TEXT_FIELDS = {"Grievance Escalation": ("reason",)}
CONSENT_FIELDS = ("consent_given", "consent_text_version", "consent_given_on", "consent_withdrawn_on")
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
	reporter_identity=(),
) -> str:
	"""Redact one case; returns the log entry's name. `withdrawn_on` marks a consent withdrawal;
	`reporter_identity` is what else names the reporter (a member's own fields)."""
	marker = redaction_marker()
	identity = copies.needles([*case_identity(name), *reporter_identity], marker)
	values = dict.fromkeys(IDENTITY_FIELDS[GRIEVANCE])
	if case_text:
		values.update(dict.fromkeys(CASE_TEXT_FIELDS, marker))
	redacted = list(values)
	values["_comments"] = None  # the cached last comments shown in the list view
	if withdrawn_on:
		# nothing of the withdrawal's time on the case; not marked redacted: retention clears the text later
		keep_withdrawn_reporter(name)
		values.update(dict.fromkeys(CONSENT_FIELDS))
		values["consent_given"] = 0
	else:
		values["redacted_on"] = now_datetime()
	frappe.db.set_value(GRIEVANCE, name, values, update_modified=False)
	if case_text:
		for child, fields in CASE_CHILD_TEXT_FIELDS.items():
			rows = {"parent": name, "parenttype": GRIEVANCE}
			if frappe.db.exists(child, rows):
				frappe.db.set_value(child, rows, dict.fromkeys(fields, marker), update_modified=False)
				redacted += [f"{child}.{field}" for field in fields]
	counts = {"versions_scrubbed": scrub_versions(GRIEVANCE, name, redacted, marker)}
	if frappe.db.exists(SEALED_DOCTYPE, name):  # a confidential case's reporter, sealed off the case
		frappe.db.delete(SEALED_DOCTYPE, {"name": name})
		counts["sealed_identity_deleted"] = 1
	if delete_attachments:  # first: deleting a file adds an "Attachment Removed" comment naming it
		counts["files_deleted"] = delete_files_of(GRIEVANCE, name)
	if delete_comments:
		counts["comments_deleted"] = delete_comments_of(GRIEVANCE, name)
		counts["communications_deleted"] = delete_communications_of(GRIEVANCE, name)
		counts["communications_deleted"] += delete_intake_messages_of(name)
	counts["copies_removed"] = forget_contact_handles(name, address_only=bool(withdrawn_on))
	copies.forget_references(GRIEVANCE, name, with_text=case_text, identity=identity)
	if not withdrawn_on:
		frappe.db.delete(WITHDRAWN_REPORTER, {"grievance": name})
	return write_log(GRIEVANCE, name, rule, redacted, run_id, counts)


def case_identity(name: str) -> list[str]:
	"""The reporter's identity values on the case and, for a confidential case, sealed off it."""
	values = frappe.db.get_value(GRIEVANCE, name, IDENTITY_FIELDS[GRIEVANCE][1:], as_dict=True) or {}
	sealed = frappe.db.get_value(SEALED_DOCTYPE, name, IDENTITY_FIELDS[GRIEVANCE][1:], as_dict=True) or {}
	return [value for value in (*values.values(), *sealed.values()) if value]


def case_text_values(name: str) -> list[str]:
	"""What the case's free text says (erasure looks for it in the copies outside the case)."""
	values = list((frappe.db.get_value(GRIEVANCE, name, CASE_TEXT_FIELDS, as_dict=True) or {}).values())
	for child, fields in CASE_CHILD_TEXT_FIELDS.items():
		for row in frappe.get_all(child, filters={"parent": name, "parenttype": GRIEVANCE}, fields=fields):
			values += list(row.values())
	marker = redaction_marker()
	return [value for value in values if value and value != marker]


def keep_withdrawn_reporter(name: str):
	"""Before a withdrawal cuts the member link: which member it was, where no role reads it."""
	member = frappe.db.get_value(GRIEVANCE, name, "member") or frappe.db.get_value(
		SEALED_DOCTYPE, name, "member"
	)
	if member and not frappe.db.exists(WITHDRAWN_REPORTER, {"member": member, "grievance": name}):
		frappe.get_doc({"doctype": WITHDRAWN_REPORTER, "member": member, "grievance": name}).insert(
			ignore_permissions=True
		)


def delete_intake_messages_of(name: str) -> int:
	"""The intake's messages to and from the worker about the case, and the inbound ones that made it."""
	deleted = 0
	for doctype in ("Case Message", "Inbound Message"):
		if not frappe.db.table_exists(doctype):
			continue
		rows = frappe.get_all(doctype, filters={"grievance": name}, pluck="name")
		for row in rows:
			copies.forget_in_search(doctype, row)
		if rows:
			frappe.db.delete(doctype, {"name": ["in", rows]})
		deleted += len(rows)
	return deleted


def forget_contact_handles(name: str, address_only: bool = False) -> int:
	"""The worker's address kept for replies (encrypted in __Auth), or the whole handle."""
	if not frappe.db.table_exists(HANDLE):
		return 0
	handles = frappe.get_all(HANDLE, filters={"grievance": name}, pluck="name")
	if not handles:
		return 0
	frappe.db.delete("__Auth", {"doctype": HANDLE, "name": ["in", handles]})
	if address_only:
		# the number's keyed hash goes with it: nothing ties the number to the case any more
		frappe.db.set_value(
			HANDLE,
			{"name": ["in", handles]},
			{"address_kind": "Tracking Page", "address_hash": None},
			update_modified=False,
		)
	else:
		frappe.db.delete(HANDLE, {"name": ["in", handles]})
	# the guided first contact that opened the case (its state holds the same hash)
	if frappe.db.table_exists(CONVERSATION):
		frappe.db.delete(CONVERSATION, {"grievance": name})
	return len(handles)


def redact_member(name: str, rule: str, run_id: str | None = None) -> str:
	"""Redact a member record's identity (erasure); membership statistics (union, gender, dates) stay."""
	marker = redaction_marker()
	values = {
		field: marker if field in MEMBER_PLACEHOLDER_FIELDS else None for field in IDENTITY_FIELDS[MEMBER]
	}
	redacted = list(values)
	values.update({"redacted_on": now_datetime(), "_comments": None})
	frappe.db.set_value(MEMBER, name, values, update_modified=False)
	frappe.db.delete(WITHDRAWN_REPORTER, {"member": name})
	copies.forget_references(MEMBER, name, with_text=True)
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
	values = frappe.db.get_value(MEMBER, member, IDENTITY_FIELDS[MEMBER], as_dict=True) or {}
	reporter_identity = [str(value) for field, value in values.items() if value and field != "date_of_birth"]
	for case in cases:
		redact_case(
			case,
			rule,
			run_id,
			case_text=erasure,
			delete_comments=erasure,
			delete_attachments=erasure,
			withdrawn_on=withdrawn_on,
			reporter_identity=reporter_identity,
		)
	return len(cases)


def cases_reported_by(members=(), emails=()) -> list[str]:
	"""Cases whose reporter is one of the members or emails: on the case, sealed off a confidential one,
	or kept after a withdrawal cut the member link."""
	cases = set()
	for doctype, case_field in ((GRIEVANCE, "name"), (SEALED_DOCTYPE, "grievance")):
		for field, values in (("member", members), ("reporter_email", emails)):
			if values:
				cases.update(frappe.get_all(doctype, filters={field: ["in", list(values)]}, pluck=case_field))
	if members:
		cases.update(
			frappe.get_all(WITHDRAWN_REPORTER, filters={"member": ["in", list(members)]}, pluck="grievance")
		)
	return sorted(cases)


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
		copies.forget_references("Communication", communication, with_text=True)
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
		copies.forget_in_search("File", file)
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
