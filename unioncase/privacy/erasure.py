"""Frappe's personal-data requests (Website > Personal Data Deletion / Download Request) cover UnionCase.

Deletion: Frappe's own pass (hooks.py `user_data_fields`) overwrites the listed fields of the
records matching the user's email with placeholders and renames the email to the request's name.
When the request reaches "Deleted", `on_deletion_request_change` finishes the job the UnionCase way:
the member record's identity is emptied, every case the member reported (member link, sealed
reporter, or kept after a withdrawal) or filed with that email (reporter_email) is fully redacted,
the change history is scrubbed and each step is logged (redaction.py). Then the worker's identity
and their cases' text are looked for, by value, in every copy Frappe keeps outside the records
(copies.py): notifications, emails, error logs, comments, versions, contacts, user defaults, the
search index and its Redis queue. Case statistics stay.

A member without a website login has no deletion request: `erase_member` (Desk: Erase Personal
Data on the member) does the same for custodians and admins who may edit the member.

Download: Frappe's file lists the hooks' records (the member record and non-member cases by email);
`on_download_request_insert` adds UnionCase's complete export for that email (member_export.py):
consent history, every case reported with the comments and communications on it, redaction log.
"""

import json

import frappe
from frappe import _
from frappe.utils.verified_command import get_signed_params

from unioncase.privacy import copies
from unioncase.privacy.fields import has_identity_access, is_privacy_admin
from unioncase.privacy.identity import IDENTITY_FIELDS
from unioncase.privacy.member_export import member_data
from unioncase.privacy.redaction import (
	DELETION_REQUEST,
	GRIEVANCE,
	MEMBER,
	case_identity,
	case_text_values,
	cases_reported_by,
	redact_case,
	redact_member,
	redaction_marker,
)

DELETED = "Deleted"


def on_deletion_request_change(doc, method=None):
	remembered = frappe.flags.setdefault("erasure_identity", {})
	if doc.status == "Pending Approval" and doc.name not in remembered:
		# Frappe's own pass overwrites the matched fields (names, phones) step by step (saving the
		# request after each) before the request reaches "Deleted": what they held is remembered
		# at its first save, to find their copies afterwards
		remembered[doc.name] = identity_of(doc.email)
	if doc.status == DELETED:
		names = [getattr(doc, "full_name", None), *contact_names(doc.email, doc.name)]
		names += remembered.pop(doc.name, [])
		placeholders = {doc.email, doc.name, *frappe_placeholders(doc)}
		erase_personal_data(
			doc.email,
			doc.name,
			also=[name for name in names if name and name not in placeholders],
			placeholders=placeholders,
		)


def frappe_placeholders(doc) -> set[str]:
	"""What Frappe's pass wrote instead of the values: its anonymisation map, and field names it falls
	back to; never searched for as the worker."""
	values = {str(value) for value in (getattr(doc, "anonymization_value_map", None) or {}).values()}
	for hook in frappe.get_hooks("user_data_fields"):
		values.update(hook.get("redact_fields") or [])
	return values


def identity_of(email: str) -> list[str]:
	"""Every identity string held for `email`: website user, contacts, member records, reporters."""
	values = list(
		(
			frappe.db.get_value(
				"User",
				email,
				["full_name", "first_name", "middle_name", "last_name", "username", "phone", "mobile_no"],
				as_dict=True,
			)
			or {}
		).values()
	)
	for contact in frappe.get_all("Contact", filters={"email_id": email}, pluck="name"):
		values += frappe.db.get_value("Contact", contact, ["full_name", "phone", "mobile_no"]) or []
		values += frappe.get_all("Contact Phone", filters={"parent": contact}, pluck="phone")
	members = frappe.get_all(MEMBER, filters={"email": email}, pluck="name")
	for member in members:
		values += member_identity(member)
	for case in cases_reported_by(members=members, emails=[email]):
		values += case_identity(case)
	return [str(value) for value in values if value]


def contact_names(email: str, anonymised_email: str) -> list[str]:
	"""The user's Contact keeps its full name when Frappe redacts the first and last name."""
	contacts = frappe.get_all(
		"Contact", filters={"email_id": ["in", [email, anonymised_email]]}, pluck="full_name"
	)
	contacts += frappe.get_all(
		"Contact", filters={"name": ["like", f"{anonymised_email}%"]}, pluck="full_name"
	)
	return [name for name in contacts if name and not name.startswith("[")]


def erase_personal_data(email: str, anonymised_email: str | None = None, also=(), placeholders=()) -> dict:
	"""Redact every member record and case that carries `email` (or its anonymised replacement),
	then every copy of the worker's identity and their cases' text outside them."""
	emails = [value for value in (email, anonymised_email) if value]
	members = frappe.get_all(MEMBER, filters={"email": ["in", emails]}, pluck="name")
	return erase(members, emails, anonymised_email, also, placeholders)


@frappe.whitelist(methods=["POST"])
def erase_member(member: str) -> dict:
	"""Erase a member who has no website login (or whose request came another way): the member record's
	identity, every case they reported, and every copy of them the platform keeps.

	Allowed to Identity Custodians and Union Administrators who may edit the member, as withdrawal is.
	"""
	if not frappe.db.exists(MEMBER, member):
		frappe.throw(_("Member {0} does not exist.").format(frappe.bold(member)), frappe.DoesNotExistError)
	may_erase = has_identity_access(MEMBER) or is_privacy_admin()
	if not (may_erase and frappe.has_permission(MEMBER, "write", member)):
		frappe.throw(
			_("You cannot erase the personal data of member {0}.").format(frappe.bold(member)),
			frappe.PermissionError,
			title=_("Not permitted"),
		)
	email = frappe.db.get_value(MEMBER, member, "email")
	# a website login of that email stays (its own deletion request erases it): its address is not rewritten
	keep_email = bool(email) and bool(frappe.db.exists("User", email))
	result = erase([member], [email] if email else [], None, placeholders=[email] if keep_email else ())
	return {"members": result["members"], "cases": result["cases"], "run_id": result["run_id"]}


def erase(
	members: list[str], emails: list[str], anonymised_email: str | None, also=(), placeholders=()
) -> dict:
	run_id = frappe.generate_hash(length=12)
	found = cases_reported_by(members=members, emails=emails)
	done = frappe.get_all(
		GRIEVANCE, filters={"name": ["in", found or [""]], "redacted_on": ["is", "set"]}, pluck="name"
	)
	cases = sorted(set(found) - set(done))
	marker = redaction_marker()
	identity = [*also, *(value for member in members for value in member_identity(member))]
	text = []
	for case in cases:
		identity += case_identity(case)
		text += case_text_values(case)
	for case in cases:
		redact_case(case, DELETION_REQUEST, run_id)
	for member in members:
		redact_member(member, DELETION_REQUEST, run_id)
	replacements = copies.needles(identity, marker)
	for email in emails:  # as Frappe renames the user: to the request's anonymous address
		replacements.update(dict.fromkeys(copies.forms(email), anonymised_email or marker))
	# the cases' text: its own history is scrubbed already; another case's history may hold the same words
	text_replacements = copies.needles(text, marker, minimum=copies.MIN_TEXT)
	for found in (replacements, text_replacements):
		for placeholder in (*placeholders, marker):
			for form in copies.forms(placeholder):
				found.pop(form, None)
	text_replacements = {
		needle: value for needle, value in text_replacements.items() if needle not in replacements
	}
	counts = copies.forget_values(replacements)
	copies.forget_values(text_replacements, skip=("Version",))
	forget_cached(members, cases, [*emails, anonymised_email])
	return {"run_id": run_id, "members": members, "cases": cases, "copies": counts}


def forget_cached(members: list[str], cases: list[str], users: list[str | None]):
	"""Cached documents and user data (Redis) held the old values."""
	for doctype, names in ((MEMBER, members), (GRIEVANCE, cases)):
		for name in names:
			frappe.clear_document_cache(doctype, name)
	for user in filter(None, users):
		frappe.clear_document_cache("User", user)
		for contact in frappe.get_all("Contact", filters={"email_id": user}, pluck="name"):
			frappe.clear_document_cache("Contact", contact)
		frappe.clear_cache(user=user)


def member_identity(member: str) -> list[str]:
	values = frappe.db.get_value(MEMBER, member, IDENTITY_FIELDS[MEMBER], as_dict=True) or {}
	return [str(value) for field, value in values.items() if value and field != "date_of_birth"]


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
