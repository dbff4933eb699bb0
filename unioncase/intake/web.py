"""The workers' pages: report a problem (/lapor, /report-problem) and track a case (/kasus, /track-case).

Plain HTML forms that work without JavaScript, posted back to the page itself: a refused submission
re-renders the form with what the worker typed and a message beside each field to fix. An accepted one
is stored in the inbox first (`inbox.receive`, committed) and processed by the inbox's job.
Abuse protection needs no third party: a signed form token bound to a browser cookie (CSRF without
JS; it is also the delivery key, so a form sent twice is stored once), a honeypot field, body and file
size limits and rate limits per address and per tracking code.
"""

import hashlib
import hmac
import re
import secrets
import time
import unicodedata

import frappe
from frappe import _
from frappe.utils import cint, escape_html, get_url, strip_html, today
from frappe.utils.password import get_encryption_key

from unioncase import compat
from unioncase.intake import conversation, files, handle, inbox, language, limits, matching, tracking
from unioncase.intake.inbox import Outcome
from unioncase.intake.phone import normalize_phone
from unioncase.privacy.consent import current_consent_sql, record_consent

REPORT_PATH, TRACK_PATH = "/lapor", "/kasus"
ENGLISH_PATHS = ("/report-problem", "/track-case")
LANGUAGES = ("id", "en")
COOKIE = "uc_intake"
TOKEN_MAX_AGE = 24 * 60 * 60
HONEYPOT = "website"
WORKPLACE_MAX, NAME_MAX, CONTACT_MAX, DESCRIPTION_MAX = 140, 140, 254, 5000
DESCRIPTION_MIN_LETTERS = 10
ANONYMOUS, NAMED = "anonim", "nama"
SETTINGS = "Intake Settings"
# Invisible characters that reorder or hide text (bidi overrides and isolates, marks).
HIDDEN_CHARACTERS = dict.fromkeys(
	map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"), None
)
# Unicode's control (Cc) and surrogate (Cs) characters but the line break and the tab.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


class Refused(Exception):
	"""A submission the page refuses, with the HTTP status and a message per field (or "form")."""

	def __init__(self, errors: dict[str, str], status: int = 400):
		super().__init__(errors)
		self.errors, self.status = errors, status


def settings() -> frappe._dict:
	"""Intake Settings as the pages use them, with the defaults for those never set. Read through Frappe's
	document cache (asked on every view and submission; a save and set_single_value clear it)."""
	values = frappe.get_cached_doc(SETTINGS)
	return frappe._dict(
		default_union=values.get("default_union"),
		max_file_bytes=(cint(values.get("max_file_mb")) or 5) * 1024 * 1024,
		max_files=cint(values.get("max_files")) or 3,
		reports_per_hour=cint(values.get("reports_per_hour")) or 10,
		lookups_per_hour=cint(values.get("lookups_per_hour")) or 30,
		lookups_per_code_per_hour=cint(values.get("lookups_per_code_per_hour")) or 20,
	)


def page_state(lang: str, union=None, dedup_key: str | None = None) -> frappe._dict:
	"""What a view or a submission of /lapor needs to know: Intake Settings (cached) and, in one statement
	of scalar subqueries, the consent text in force in the page's language and in Bahasa Indonesia (its
	fallback), whether the form link's union exists and the message this form was stored as, if it was.
	A round trip each would be most of what a burst of reports costs the database; a UNION of the same
	selects cost it three times more (it builds a temporary table)."""
	union = union if isinstance(union, str) else None
	languages = (lang,) if lang == "id" else (lang, "id")
	consents = ", ".join(
		f"({current_consent_sql(f'lang{position}', 'today', column)})"
		for position in range(len(languages))
		for column in ("name", "text")
	)
	row = frappe.db.sql(
		f"""select (select name from `tabUnion` where name = %(union)s),
		(select name from `tab{inbox.INBOUND}` where dedup_key = %(dedup_key)s), {consents}""",
		{
			"today": today(),
			"union": union or "",
			"dedup_key": dedup_key or "",
			**{f"lang{position}": language for position, language in enumerate(languages)},
		},
	)[0]
	known_union, stored, *texts = row
	in_force = [frappe._dict(name=texts[i], text=texts[i + 1]) for i in range(0, len(texts), 2)]
	return frappe._dict(
		limits=settings(),
		consent=next((consent for consent in in_force if consent.name), None),
		union=known_union,
		stored=stored,
	)


# --- language, tokens, text ---------------------------------------------------------------------


def use_page_language() -> str:
	"""Bahasa Indonesia unless the worker chose English (the switch, or the English address)."""
	requested = frappe.form_dict.get("lang")
	path = frappe.request.path if getattr(frappe.local, "request", None) else ""
	if requested not in LANGUAGES:
		requested = "en" if path.rstrip("/") in ENGLISH_PATHS else "id"
	frappe.local.lang = requested
	compat.use_kept_translations(requested)
	return requested


def browser_id() -> str:
	"""A random id in a first-party cookie: a form token only counts when posted with it (CSRF)."""
	current = frappe.request.cookies.get(COOKIE) or ""
	if not (len(current) == 22 and current.replace("-", "").replace("_", "").isalnum()):
		current = secrets.token_urlsafe(16)
	frappe.local.cookie_manager.set_cookie(
		COOKIE, current, httponly=True, samesite="Lax", max_age=TOKEN_MAX_AGE
	)
	return current


def signing_key() -> bytes:
	return hashlib.sha256(f"unioncase-intake:{get_encryption_key()}".encode()).digest()


def sign(*parts: str) -> str:
	return hmac.new(signing_key(), ".".join(parts).encode(), hashlib.sha256).hexdigest()[:32]


def new_form_token(browser: str) -> str:
	nonce, issued = secrets.token_urlsafe(16), str(int(time.time()))
	return f"{nonce}.{issued}.{sign(nonce, issued, browser)}"


def form_nonce(token, browser: str) -> str | None:
	"""The form's nonce if the token is ours, recent and posted from the browser it was given to."""
	if not isinstance(token, str) or token.count(".") != 2:
		return None
	nonce, issued, signature = token.split(".")
	if not issued.isdecimal() or not hmac.compare_digest(signature, sign(nonce, issued, browser)):
		return None
	if not 0 <= time.time() - int(issued) <= TOKEN_MAX_AGE:
		return None
	return nonce


def clean_text(value, multiline: bool = False) -> str | None:
	"""Text as stored: NFC, no control, bidi-override or surrogate characters; None if not text at all."""
	if value is None:
		return ""
	if not isinstance(value, str):
		return None
	text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
	text = CONTROL_CHARACTERS.sub("", text.translate(HIDDEN_CHARACTERS))
	if not multiline:
		text = text.replace("\n", " ").replace("\t", " ")
	return text.strip()


def letters(text: str) -> int:
	return sum(character.isalnum() for character in text)


def request_ip() -> str:
	return getattr(frappe.local, "request_ip", None) or "unknown"


def too_large(limit: int) -> bool:
	length = frappe.request.content_length if getattr(frappe.local, "request", None) else None
	return bool(length and length > limit)


# --- the report page ----------------------------------------------------------------------------


def report_context(context):
	"""/lapor: the form (GET) or the outcome of a submission (POST)."""
	context.no_cache = 1
	context.lang = use_page_language()
	browser = browser_id()
	form = frappe.form_dict
	context.typed = {
		key: value if isinstance(value, str) else ""
		for key, value in form.items()
		if key in ("workplace", "description", "anonymity", "name", "contact", "consent", "union")
	}
	context.typed.setdefault("anonymity", ANONYMOUS)
	posted = frappe.request.method == "POST"
	nonce = form_nonce(form.get("form_token"), browser) if posted else None
	state = page_state(
		context.lang,
		form.get("serikat") or form.get("union"),
		inbox.delivery_key_of("Web", report_delivery_key(nonce)) if nonce else None,
	)
	context.typed["union"] = state.union or ""
	context.consent = state.consent
	context.consent_plain = strip_html(context.consent.text or "") if context.consent else ""
	context.request_path = frappe.request.path
	context.limits = state.limits
	context.errors = {}
	context.code = None
	if posted:
		try:
			context.code, context.duplicate = submit_report(
				form, nonce, context.consent, context.limits, state.union, state.stored
			)
			context.code_display = tracking.display(context.code)
			context.track_link = get_url(
				f"{TRACK_PATH}?kode={tracking.display(context.code)}&lang={context.lang}"
			)
		except Refused as refused:
			context.errors = refused.errors
			context.http_status_code = refused.status
	context.form_token = form.get("form_token") if context.errors and nonce else new_form_token(browser)
	context.csrf_token = frappe.sessions.get_csrf_token() if frappe.session.user != "Guest" else None
	context.other_lang = "en" if context.lang == "id" else "id"
	return context


def report_delivery_key(nonce: str) -> str:
	"""A report's delivery key: its form's nonce, so a form sent twice is stored once."""
	return hashlib.sha256(f"report:{nonce}".encode()).hexdigest()


def submit_report(
	form, nonce: str | None, consent, limit, union: str | None = None, stored: str | None = None
) -> tuple[str, bool]:
	"""Check and store one report; (tracking code, whether it had been stored already). `nonce`: the
	posted form token's, if it is valid (form_nonce); `stored`: the message this form's delivery key was
	found stored as (page_state looked)."""
	if too_large(limit.max_files * limit.max_file_bytes + 1024 * 1024):
		raise Refused({"form": _("What you sent is too large. Send fewer or smaller files.")}, 413)
	if not nonce:
		raise Refused(
			{"form": _("This form had expired. Check what you wrote below and send it again.")}, 400
		)
	if form.get(HONEYPOT):
		raise Refused({"form": _("Leave the field 'Leave this empty' empty, then send again.")}, 400)
	report, errors = parse_report(form, consent)
	uploads, file_errors = read_uploads(limit)
	errors.update(file_errors)
	if errors:
		raise Refused(errors)
	delivery_key = report_delivery_key(nonce)
	code = tracking.code_from_secret(signing_key(), nonce)
	if stored:
		return code, True
	if not limits.allow("report-ip", request_ip(), limit.reports_per_hour, 60 * 60):
		raise Refused(
			{"form": _("Too many reports were sent from this connection. Wait an hour and send again.")}, 429
		)
	_name, created = inbox.receive(
		"Web",
		delivery_key,
		report,
		union=union,
		summary=_("Report from the web page: {0} characters, {1} files").format(
			len(report["description"]), len(uploads)
		),
		tracking_code_hash=tracking.code_hash(code),
		after_insert=lambda message: save_uploads(uploads, message),
	)
	return code, not created


def parse_report(form, consent) -> tuple[dict, dict]:
	errors = {}
	workplace = clean_text(form.get("workplace"))
	description = clean_text(form.get("description"), multiline=True)
	name = clean_text(form.get("name"))
	contact = clean_text(form.get("contact"))
	anonymity = form.get("anonymity") or ANONYMOUS
	for field, value in (
		("workplace", workplace),
		("description", description),
		("name", name),
		("contact", contact),
	):
		if value is None:
			errors[field] = _("Send this as plain text.")
	if workplace is not None and letters(workplace) < 2:
		errors["workplace"] = _("Write the name of your workplace or company.")
	elif workplace and len(workplace) > WORKPLACE_MAX:
		errors["workplace"] = _("Shorten the workplace to {0} characters.").format(WORKPLACE_MAX)
	if description is not None and letters(description) < DESCRIPTION_MIN_LETTERS:
		errors["description"] = _("Tell us in words what happened (at least {0} letters).").format(
			DESCRIPTION_MIN_LETTERS
		)
	elif description and len(description) > DESCRIPTION_MAX:
		errors["description"] = _("Shorten what happened to {0} characters (now {1}).").format(
			DESCRIPTION_MAX, len(description)
		)
	if anonymity not in (ANONYMOUS, NAMED):
		errors["anonymity"] = _("Choose whether to report anonymously or with your name.")
	elif anonymity == NAMED and name is not None:
		if letters(name) < 2:
			errors["name"] = _("Write your name, or choose to report anonymously.")
		elif len(name) > NAME_MAX:
			errors["name"] = _("Shorten your name to {0} characters.").format(NAME_MAX)
	contact_kind, contact_value = None, None
	if contact:
		contact_kind, contact_value = parse_contact(contact)
		if not contact_kind:
			errors["contact"] = _(
				"Write a phone number like 0812-3456-7890 or an email like nama@contoh.id, or leave it empty."
			)
	if form.get("consent") != "1" or not consent:
		errors["consent"] = _("Tick the box to agree, or we cannot take your report.")
	report = {
		"workplace": workplace,
		"description": description,
		"anonymous": anonymity != NAMED,
		"name": name if anonymity == NAMED else None,
		"contact": contact_value,
		"contact_kind": contact_kind,
		"consent_version": consent.name if consent else None,
		"language": frappe.local.lang,
	}
	return report, errors


def parse_contact(contact: str) -> tuple[str | None, str | None]:
	if len(contact) > CONTACT_MAX:
		return None, None
	if "@" in contact:
		email = frappe.utils.validate_email_address(contact)
		return (handle.EMAIL, email) if email and "," not in email else (None, None)
	try:
		return handle.PHONE, normalize_phone(contact, "Phone")
	except frappe.ValidationError:
		frappe.clear_messages()
		return None, None


def read_uploads(limit) -> tuple[list[bytes], dict]:
	uploads = [
		upload
		for upload in (frappe.request.files.getlist("files") if frappe.request.files else [])
		if upload and upload.filename
	]
	if len(uploads) > limit.max_files:
		return [], {"files": _("Send at most {0} files.").format(limit.max_files)}
	contents = []
	for position, upload in enumerate(uploads, start=1):
		content = upload.stream.read(limit.max_file_bytes + 1)
		if reason := files.check(content, limit.max_file_bytes):
			return [], {"files": _("File {0}: {1} Choose the files again.").format(position, reason)}
		contents.append(content)
	return contents, {}


def save_uploads(uploads: list[bytes], message: str):
	for position, content in enumerate(uploads, start=1):
		files.save(content, inbox.INBOUND, message, f"lampiran-{position}")


def process_report(inbound, payload: dict) -> Outcome:
	"""The inbox's job for a web report: the case, its contact handle and the first conversation entry."""
	member = matching.match_member(
		email=payload["contact"] if payload["contact_kind"] == handle.EMAIL else None,
		phone=payload["contact"] if payload["contact_kind"] == handle.PHONE else None,
	)
	# the form link's union, else the matched member's workplace union, else the default intake union
	union = inbound.union or (member.workplace_union if member else None) or settings().default_union
	if not union:
		raise frappe.ValidationError("No intake union: set a Default Intake Union in Intake Settings")
	case = frappe.get_doc(
		{
			"doctype": "Grievance",
			"kind": "Complaint",
			"subject": subject_of(payload["description"]),
			"description": as_html(payload["workplace"], payload["description"]),
			"owning_union": union,
			"workplace_union": union
			if frappe.db.get_value("Union", union, "level") == "Workplace Union"
			else None,
			"channel": "Web",
			"received_on": inbound.received_on,
			"is_anonymous": 1 if payload["anonymous"] else 0,
		}
	)
	if not payload["anonymous"]:
		case.reporter_type = "Non-member"
		if matching.may_link(member, union):
			# named and consented on the form: the member is the reporter, under the identity rules
			case.reporter_type, case.member = "Member", member.name
			case.workplace_union = member.workplace_union
		case.reporter_name = payload["name"]
		if payload["contact_kind"] == handle.EMAIL:
			case.reporter_email = payload["contact"]
		elif payload["contact_kind"] == handle.PHONE:
			case.reporter_phone = payload["contact"]
	record_consent(case, payload["consent_version"], given_on=inbound.received_on)
	case.insert(ignore_permissions=True)
	contact = handle.create(
		case.name, inbound.tracking_code_hash, payload["contact"], payload["contact_kind"]
	)
	if frappe.get_meta(handle.HANDLE).has_field("language"):
		frappe.db.set_value(handle.HANDLE, contact, "language", payload.get("language"))
	conversation.record_inbound(case.name, "Web", payload["description"], inbound.name)
	files.move(inbox.INBOUND, inbound.name, "Grievance", case.name)
	if payload["contact_kind"] == handle.EMAIL:
		acknowledge_by_email(case.name, contact, payload.get("language"))
	return Outcome(inbox.PROCESSED, grievance=case.name)


def acknowledge_by_email(grievance: str, contact: str, spoken: str | None):
	"""A worker who left an email address hears back there, in the language they reported in: queued on
	the case's conversation and delivered (with retries) by its job. The tracking code is not in it: the
	page showed it once, and only its hash is kept."""
	with language.speaking(spoken):
		content = _(
			"Your union received your report. Follow it on the tracking page with the tracking code the "
			"page showed you when you sent it; the union's answers will also come to this address."
		)
	doc = frappe.get_doc(
		{
			"doctype": conversation.CASE_MESSAGE,
			"grievance": grievance,
			"direction": conversation.TO_WORKER,
			"channel": conversation.EMAIL,
			"content": content,
			"contact_handle": contact,
			"delivery_status": conversation.QUEUED,
		}
	).insert(ignore_permissions=True)
	conversation.enqueue_delivery(doc.name)


def subject_of(description: str) -> str:
	line = " ".join(description.split())
	return line if len(line) <= 80 else line[:79].rstrip() + "…"


def as_html(workplace: str, description: str) -> str:
	return "<p><strong>{}</strong> {}</p><p>{}</p>".format(
		escape_html(_("Workplace:")),
		escape_html(workplace),
		escape_html(description).replace("\n", "<br>"),
	)


# --- the tracking page --------------------------------------------------------------------------


def track_context(context):
	"""/kasus: a code in, then the case's stage, the union's messages and a box to add information."""
	context.no_cache = 1
	context.lang = use_page_language()
	context.other_lang = "en" if context.lang == "id" else "id"
	browser = browser_id()
	form = frappe.form_dict
	context.errors, context.case, context.pending, context.added = {}, None, False, False
	context.request_path = frappe.request.path
	context.limits = settings()
	typed = form.get("kode") or form.get("code")
	context.typed_code = typed if isinstance(typed, str) else ""
	context.typed = {"message": form.get("message") if isinstance(form.get("message"), str) else ""}
	found = None
	if typed:
		try:
			found = look_up(typed, context.limits)
		except Refused as refused:
			context.errors, context.http_status_code = refused.errors, refused.status
	if found:
		context.code = tracking.display(found["code"])
		context.pending = not found["grievance"]
		if found["grievance"] and frappe.request.method == "POST" and form.get("action") == "add":
			try:
				add_information(form, browser, found, context.limits)
				context.added, context.typed = True, {"message": ""}
			except Refused as refused:
				context.errors, context.http_status_code = refused.errors, refused.status
		if found["grievance"]:
			context.case = case_view(found["grievance"])
	context.form_token = new_form_token(browser)
	context.csrf_token = frappe.sessions.get_csrf_token() if frappe.session.user != "Guest" else None
	return context


def look_up(typed, limit) -> dict:
	"""The case (or the report still being registered) a typed code tracks; rate-limited."""
	if not limits.allow("lookup-ip", request_ip(), limit.lookups_per_hour, 60 * 60):
		raise Refused({"code": _("Too many look-ups from this connection. Wait an hour and try again.")}, 429)
	code = tracking.normalise(typed)
	if not code:
		raise Refused({"code": _("A tracking code has 15 letters and digits, like ABCDE-12345-FGHJK.")})
	if not limits.allow("lookup-code", code, limit.lookups_per_code_per_hour, 60 * 60):
		raise Refused({"code": _("This code was tried too often. Wait an hour and try again.")}, 429)
	code_hash = tracking.code_hash(code)
	grievance = handle.case_for_code_hash(code_hash)
	if not grievance and not frappe.db.exists(
		inbox.INBOUND, {"tracking_code_hash": code_hash, "kind": "New Report"}
	):
		raise Refused({"code": _("No case has this tracking code. Check it and try again.")}, 404)
	return {"code": code, "code_hash": code_hash, "grievance": grievance}


def case_view(grievance: str) -> dict:
	"""Only what the worker may see: the stage in plain words and the union's messages to them."""
	state, status, received_on = frappe.db.get_value(
		"Grievance", grievance, ["workflow_state", "status", "received_on"]
	)
	return {
		"stage": stage_in_words(state, status),
		"received_on": received_on,
		"messages": conversation.messages_for_worker(grievance),
	}


def stage_in_words(state: str | None, status: str | None) -> str:
	words = {
		"Received": _("Your report was received. The union will check it soon."),
		"Verified": _("The union has checked your report and is taking it up."),
		"Under Investigation": _("The union is looking into what happened."),
		"In Negotiation": _("The union is talking with the employer about it."),
		"Waiting on Worker": _("The union is waiting for an answer from you. Read the messages below."),
		"Waiting on Employer": _("The union is waiting for an answer from the employer."),
		"Escalated": _("Your case was passed to a higher level of the union, which can do more."),
		"In Mediation": _("Your case is in mediation with the labour office."),
		"In Court": _("Your case is before the industrial relations court."),
		"Resolved": _("Your case is resolved."),
		"Closed": _("Your case is closed."),
		"Rejected": _("The union could not take up this case. Read the messages below for why."),
	}
	return words.get(state) or words.get(status) or _("The union is working on your case.")


def add_information(form, browser: str, found: dict, limit):
	if too_large(limit.max_files * limit.max_file_bytes + 1024 * 1024):
		raise Refused({"message": _("What you sent is too large. Send fewer or smaller files.")}, 413)
	nonce = form_nonce(form.get("form_token"), browser)
	if not nonce:
		raise Refused({"message": _("This form had expired. Check what you wrote below and send it again.")})
	if form.get(HONEYPOT):
		raise Refused({"message": _("Leave the field 'Leave this empty' empty, then send again.")})
	message = clean_text(form.get("message"), multiline=True)
	uploads, file_errors = read_uploads(limit)
	if file_errors:
		raise Refused({"message": file_errors["files"]})
	if message is None:
		raise Refused({"message": _("Send this as plain text.")})
	if not letters(message) and not uploads:
		raise Refused({"message": _("Write something or choose a file to send.")})
	if len(message) > DESCRIPTION_MAX:
		raise Refused(
			{
				"message": _("Shorten your message to {0} characters (now {1}).").format(
					DESCRIPTION_MAX, len(message)
				)
			}
		)
	inbox.receive(
		"Web",
		hashlib.sha256(f"follow-up:{nonce}".encode()).hexdigest(),
		{"code_hash": found["code_hash"], "message": message},
		kind="Follow-up",
		union=frappe.db.get_value("Grievance", found["grievance"], "owning_union"),
		summary=_("Information added on the tracking page: {0} characters, {1} files").format(
			len(message), len(uploads)
		),
		after_insert=lambda name: save_uploads(uploads, name),
	)


def process_follow_up(inbound, payload: dict) -> Outcome:
	grievance = handle.case_for_code_hash(payload["code_hash"])
	if not grievance:
		return Outcome(inbox.IGNORED, _("No case has this tracking code any more."))
	if payload.get("message"):
		conversation.record_inbound(grievance, "Web", payload["message"], inbound.name)
	files.move(inbox.INBOUND, inbound.name, "Grievance", grievance)
	frappe.get_doc("Grievance", grievance).add_comment(
		"Info", _("The worker added information on the tracking page.")
	)
	return Outcome(inbox.PROCESSED, grievance=grievance)
