"""Frappe's personal-data requests (Website > Personal Data Deletion / Download Request) cover UnionCase.

Deletion: Frappe's own pass (hooks.py `user_data_fields`) overwrites the listed fields of the
records matching the user's email with placeholders and renames the email to the request's name.
When the request reaches "Deleted", `on_deletion_request_change` finishes the job the UnionCase way:
the member record's identity is emptied, every case the member reported (member link) or filed
with that email (reporter_email) is fully redacted, the change history is scrubbed and each step
is logged (redaction.py). Case statistics stay.

Download: Frappe's file lists the hooks' records (the member record and non-member cases by email);
`on_download_request_insert` adds UnionCase's complete export for that email (member_export.py):
consent history, every case reported with the comments and communications on it, redaction log.
"""

import json

import frappe
from frappe import _
from frappe.utils.verified_command import get_signed_params

from unioncase.privacy.member_export import member_data
from unioncase.privacy.redaction import (
	DELETION_REQUEST,
	GRIEVANCE,
	MEMBER,
	cases_reported_by,
	redact_case,
	redact_member,
)

DELETED = "Deleted"


def on_deletion_request_change(doc, method=None):
	if doc.status == DELETED:
		erase_personal_data(doc.email, doc.name)


def erase_personal_data(email: str, anonymised_email: str | None = None) -> dict:
	"""Redact every member record and case that carries `email` (or its anonymised replacement)."""
	emails = [value for value in (email, anonymised_email) if value]
	run_id = frappe.generate_hash(length=12)
	members = frappe.get_all(MEMBER, filters={"email": ["in", emails]}, pluck="name")
	found = cases_reported_by(members=members, emails=emails)
	done = frappe.get_all(
		GRIEVANCE, filters={"name": ["in", found or [""]], "redacted_on": ["is", "set"]}, pluck="name"
	)
	cases = set(found) - set(done)
	for case in sorted(cases):
		redact_case(case, DELETION_REQUEST, run_id)
	for member in members:
		redact_member(member, DELETION_REQUEST, run_id)
	return {"run_id": run_id, "members": members, "cases": sorted(cases)}


def on_download_request_insert(doc, method=None):
	if doc.user in ("Administrator", "Guest"):
		return
	frappe.enqueue(
		"unioncase.privacy.erasure.send_member_data",
		queue="short",
		request=doc.name,
		user=doc.user,
		now=frappe.flags.in_test,
	)


def send_member_data(request: str, user: str):
	"""Attach UnionCase's export for the user's email to their download request and mail its link."""
	members = frappe.get_all(MEMBER, filters={"email": user}, pluck="name")
	if not members:
		return
	# the worker's own request: their confidential cases too
	data = {"Union Member": [member_data(member, include_sealed=True) for member in members]}
	file = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"UnionCase-Data-{request}.json",
			"attached_to_doctype": "Personal Data Download Request",
			"attached_to_name": request,
			"content": json.dumps(data, indent=2, default=str),
			"is_private": 1,
		}
	).insert(ignore_permissions=True)
	link = (
		frappe.utils.get_url("/api/method/frappe.utils.file_manager.download_file")
		+ "?"
		+ get_signed_params({"file_url": file.file_url})
	)
	frappe.sendmail(
		recipients=user,
		subject=_("Your data held by the union"),
		message=_("Download everything the union holds about you as a member: {0}").format(link),
	)
