"""Consent: which text a worker was read, when they agreed, and their right to withdraw.

A case that names its reporter (a member link or reporter fields) needs the reporter's consent on the
case itself; an anonymous case keeps no identity and needs none. Membership records are held on the
union's own basis (GDPR Art. 9(2)(d), UU PDP Art. 20), so a member's consent is recorded when given,
not required. Every change is kept as a Consent Event; withdrawal redacts the member's identity from
their cases (see redaction.py).
"""

import frappe
from frappe import _
from frappe.utils import now_datetime, today

from unioncase.privacy.fields import has_identity_access, is_privacy_admin
from unioncase.privacy.identity import IDENTITY_FIELDS

CONSENT_TEXT = "Consent Text"
CONSENT_EVENT = "Consent Event"
MEMBER = "Union Member"
# What a Consent Event is about: holding and handling the worker's data, or sending them announcements.
DATA_PROCESSING, BROADCASTS = "Data Processing", "Broadcasts"
GIVEN, WITHDRAWN = "Given", "Withdrawn"
# Consent Text fields a worker may have been read: changing them would rewrite what they agreed to.
READ_TEXT_FIELDS = ("version", "language", "text", "effective_from")


def validate_consent_text(doc):
	"""A consent text that exists may have been read to workers: a change is a new version."""
	if doc.is_new():
		return
	changed = [field for field in READ_TEXT_FIELDS if doc.has_value_changed(field)]
	if changed:
		frappe.throw(
			_(
				"Consent text {0} may already have been read to workers and cannot change. "
				"Create a new version with the new text instead."
			).format(frappe.bold(doc.name)),
			title=_("Consent text is fixed"),
		)


def current_consent_text(language: str = "id") -> str | None:
	"""The version in force today for `language`: the one with the latest effective date."""
	consent = current_consent(language)
	return consent.name if consent else None


def current_consent(language: str = "id") -> frappe._dict | None:
	"""The version in force today for `language`, with its text (one query)."""
	rows = frappe.db.sql(
		current_consent_sql("language", "today"), {"language": language, "today": today()}, as_dict=True
	)
	return rows[0] if rows else None


def current_consent_sql(language_param: str, today_param: str, columns: str = "name, text") -> str:
	"""The statement choosing the version in force (its `columns`) for the language in `language_param` on
	the day in `today_param`: the latest effective date, then the latest made. The reporting page runs it
	inside its own single query (intake/web.py)."""
	return f"""select {columns} from `tab{CONSENT_TEXT}`
		where language = %({language_param})s and effective_from <= %({today_param})s
		order by effective_from desc, creation desc limit 1"""


def record_consent(doc, text_version: str, given_on=None):
	"""Record on a new or existing Grievance or Union Member that the worker agreed to `text_version`.

	The one entry point for intake channels (web form, WhatsApp, import): call it before insert/save.
	"""
	if not frappe.db.exists(CONSENT_TEXT, text_version):
		frappe.throw(
			_("Consent text version {0} does not exist.").format(frappe.bold(text_version)),
			frappe.LinkValidationError,
			title=_("Unknown consent text"),
		)
	doc.consent_given = 1
	doc.consent_text_version = text_version
	doc.consent_given_on = given_on or now_datetime()
	doc.consent_withdrawn_on = None
	return doc


def validate_consent(doc):
	"""Run from the validate of Grievance and Union Member."""
	before = None if doc.is_new() else doc.get_doc_before_save()
	if before and before.consent_given and not doc.consent_given:
		if doc.doctype == MEMBER:
			frappe.throw(
				_(
					"Use Withdraw Consent to withdraw a member's consent: it also removes their identity "
					"from the cases they reported."
				),
				title=_("Withdraw consent"),
			)
		doc.consent_withdrawn_on = now_datetime()
	if doc.consent_given and not (before and before.consent_given):
		doc.consent_withdrawn_on = None
	if doc.consent_given:
		if not doc.consent_text_version:
			frappe.throw(
				_("Record which version of the consent text was read to the worker."),
				frappe.MandatoryError,
				title=_("Consent text version missing"),
			)
		if not doc.consent_given_on:
			doc.consent_given_on = now_datetime()
	elif (
		doc.doctype == "Grievance"
		and not doc.is_anonymous
		and names_reporter(doc)
		and identity_touched(doc, before)
	):
		frappe.throw(
			_(
				"This case names its reporter, so it needs their consent: read them the consent text and "
				"record its version, or make the case anonymous."
			),
			frappe.ValidationError,
			title=_("Consent missing"),
		)


def names_reporter(doc) -> bool:
	return any(doc.get(field) for field in IDENTITY_FIELDS[doc.doctype])


def identity_touched(doc, before) -> bool:
	"""A new case, a changed identity or consent just removed; cases from before consent was recorded
	can still be worked on (retention clears them in time)."""
	if not before:
		return True
	return bool(before.consent_given) or any(
		(doc.get(field) or None) != (before.get(field) or None) for field in IDENTITY_FIELDS[doc.doctype]
	)


def log_consent_change(doc):
	"""Run from on_update: a Consent Event each time consent is given (again, or to a new text) or withdrawn."""
	before = doc.get_doc_before_save()
	if not doc.consent_given:
		if before and before.consent_given:
			add_consent_event(doc.doctype, doc.name, "Withdrawn", event_on=doc.consent_withdrawn_on)
		return
	if (
		before
		and before.consent_given
		and before.consent_text_version == doc.consent_text_version
		and before.consent_given_on == doc.consent_given_on
	):
		return
	add_consent_event(doc.doctype, doc.name, "Given", doc.consent_text_version, doc.consent_given_on)


def add_consent_event(
	doctype: str,
	name: str,
	event: str,
	consent_text: str | None = None,
	event_on=None,
	purpose: str = DATA_PROCESSING,
):
	frappe.get_doc(
		{
			"doctype": CONSENT_EVENT,
			"reference_doctype": doctype,
			"reference_name": name,
			"event": event,
			"purpose": purpose,
			"consent_text": consent_text,
			"event_on": event_on or now_datetime(),
			"recorded_by": frappe.session.user,
		}
	).insert(ignore_permissions=True)


def drop_consent_history(doc, method=None):
	"""on_trash of Grievance and Union Member: the consent history goes with the record it was for."""
	frappe.db.delete(CONSENT_EVENT, {"reference_doctype": doc.doctype, "reference_name": doc.name})


def consent_history(doctype: str, name: str) -> list[dict]:
	return frappe.get_all(
		CONSENT_EVENT,
		filters={"reference_doctype": doctype, "reference_name": name},
		fields=["event", "purpose", "consent_text", "event_on", "recorded_by"],
		order_by="event_on asc, creation asc",
	)


@frappe.whitelist(methods=["POST"])
def withdraw_consent(member: str) -> dict:
	"""The member withdraws consent: their identity leaves every case they reported.

	Allowed to Identity Custodians and Union Administrators who may edit the member (their part of
	the tree), and to the member themself when they sign in as the website user whose email the member
	record carries. Other officials may not: what it changes would show them who reported which case.
	"""
	from unioncase.privacy.redaction import CONSENT_WITHDRAWN, redact_member_cases

	if not frappe.db.exists(MEMBER, member):
		frappe.throw(_("Member {0} does not exist.").format(frappe.bold(member)), frappe.DoesNotExistError)
	may_redact = has_identity_access(MEMBER) or is_privacy_admin()
	if not ((may_redact and frappe.has_permission(MEMBER, "write", member)) or is_the_member(member)):
		frappe.throw(
			_("You cannot withdraw consent for member {0}.").format(frappe.bold(member)),
			frappe.PermissionError,
			title=_("Not permitted"),
		)
	withdrawn_on = now_datetime()
	frappe.db.set_value(
		MEMBER, member, {"consent_given": 0, "consent_withdrawn_on": withdrawn_on}, update_modified=False
	)
	add_consent_event(MEMBER, member, "Withdrawn", event_on=withdrawn_on)
	cases = redact_member_cases(member, CONSENT_WITHDRAWN, withdrawn_on=withdrawn_on)
	return {"member": member, "consent_withdrawn_on": withdrawn_on, "cases_redacted": cases}


def is_the_member(member: str) -> bool:
	user = frappe.session.user
	return user not in ("Guest", "Administrator") and frappe.db.get_value(MEMBER, member, "email") == user


# --- consent to broadcasts ------------------------------------------------------------------------


def broadcast_consent_condition(member_column: str) -> str:
	"""SQL true for a member whose latest broadcast Consent Event is a grant: the latest event wins,
	so a withdrawal after a grant stops announcements and a new grant after it starts them again."""
	return f"""(select latest.event from `tab{CONSENT_EVENT}` latest
		where latest.reference_doctype = {frappe.db.escape(MEMBER)}
			and latest.reference_name = {member_column}
			and latest.purpose = {frappe.db.escape(BROADCASTS)}
		order by latest.event_on desc, latest.creation desc limit 1) = {frappe.db.escape(GIVEN)}"""


def consents_to_broadcasts(member: str) -> bool:
	return bool(
		frappe.db.sql(
			f"select 1 from `tab{MEMBER}` where name = %s and {broadcast_consent_condition(f'`tab{MEMBER}`.name')}",
			member,
		)
	)


@frappe.whitelist(methods=["POST"])
def record_broadcast_consent(member: str, given: int, consent_text: str | None = None) -> dict:
	"""Record that a member agreed to receive the union's announcements, or withdrew that consent.

	Whoever may edit the member (an official of their part of the tree) records it, as the member
	said it; so does the member, signed in with the email on their record. Each answer is a Consent
	Event with purpose Broadcasts; the latest one decides whether broadcasts reach the member.
	"""
	if not frappe.db.exists(MEMBER, member):
		frappe.throw(_("Member {0} does not exist.").format(frappe.bold(member)), frappe.DoesNotExistError)
	if not (frappe.has_permission(MEMBER, "write", member) or is_the_member(member)):
		frappe.throw(
			_("You cannot record consent to broadcasts for member {0}.").format(frappe.bold(member)),
			frappe.PermissionError,
			title=_("Not permitted"),
		)
	if consent_text and not frappe.db.exists(CONSENT_TEXT, consent_text):
		frappe.throw(
			_("Consent text version {0} does not exist.").format(frappe.bold(consent_text)),
			frappe.LinkValidationError,
			title=_("Unknown consent text"),
		)
	event = GIVEN if frappe.utils.cint(given) else WITHDRAWN
	add_consent_event(MEMBER, member, event, consent_text if event == GIVEN else None, purpose=BROADCASTS)
	return {"member": member, "event": event, "consents_to_broadcasts": consents_to_broadcasts(member)}


def make_default_consent_texts():
	"""First version of the consent text in Bahasa Indonesia and English; never overwrites an edit."""
	for language, text in DEFAULT_TEXTS.items():
		if not frappe.db.exists(CONSENT_TEXT, {"version": DEFAULT_VERSION, "language": language}):
			frappe.get_doc(
				{
					"doctype": CONSENT_TEXT,
					"version": DEFAULT_VERSION,
					"language": language,
					"effective_from": "2026-01-01",
					"text": text,
				}
			).insert(ignore_permissions=True)


DEFAULT_VERSION = "v1"
DEFAULT_TEXTS = {
	"id": (
		"Serikat mencatat nama, kontak, dan keanggotaan Anda untuk menangani pengaduan ini. Data ini hanya "
		"dilihat oleh pengurus yang menangani kasus Anda dan tidak diberikan kepada perusahaan tanpa "
		"persetujuan Anda. Anda dapat menarik persetujuan ini kapan saja; identitas Anda lalu dihapus dari "
		"kasus. Setelah kasus selesai, data pribadi Anda dihapus sesuai kebijakan retensi serikat "
		"(UU No. 27 Tahun 2022 tentang Pelindungan Data Pribadi)."
	),
	"en": (
		"The union records your name, contact details and membership to handle this complaint. Only the "
		"officials handling your case see them, and they are not given to the employer without your "
		"agreement. You may withdraw this consent at any time; your identity is then removed from the case. "
		"After the case is finished, your personal data is removed under the union's retention policy "
		"(Indonesian Personal Data Protection Law No. 27/2022)."
	),
}
