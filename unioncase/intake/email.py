"""Email: workers' mail through Frappe's Email Account, into the inbox and the case conversation.

A union's mailbox is an ordinary Frappe Email Account whose IMAP folder (or POP account) has
*Append To: Grievance* (Grievance has `email_append_to`), listed in Intake Settings > Mailboxes with its
union (a mailbox not listed there feeds the default intake union). Frappe's own pull job fetches the mail (`pull_from_email_account` -> `EmailAccount.receive`); the
account's class (`IntakeEmailAccount`, hooks.py `override_doctype_class`) hands each intake mail, raw,
to the inbox (`inbox.receive`, keyed by Message-ID: a second delivery or fetch of the same mail stores
nothing) instead of Frappe's Communication, which would keep the worker's address in its sender field
where every official who reads the case sees it. Mail of any other folder or account goes to Frappe
as before.

The inbox's job (`process_mail`) then ignores auto-replies and bounces (with why; a bounce marks the
address unreachable), threads a reply into its case (In-Reply-To/References naming a mail of the case,
or the tracking code in the subject), or makes a new case with its contact handle and acknowledges it
with a tracking code, to the sender only, through Frappe's email queue (`frappe.sendmail`).
"""

import base64
import email
import email.policy
import hashlib
import re
from email.message import EmailMessage
from email.utils import parseaddr

import frappe
from email_reply_parser import EmailReplyParser
from frappe import _
from frappe.email.doctype.email_account.email_account import EmailAccount
from frappe.utils import escape_html, get_url, strip_html, validate_email_address

from unioncase.intake import conversation, files, handle, inbox, tracking
from unioncase.intake.inbox import Outcome

GRIEVANCE = "Grievance"
CHANNEL = "Email"
SETTINGS = "Intake Settings"
MAX_SUBJECT = 140
MAX_KEY = 120
# Headers that mark a mail no person wrote (RFC 3834, and what common autoresponders send).
AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")
AUTO_PRECEDENCE = ("auto_reply", "bulk", "junk")
AUTO_SUBJECT = re.compile(
	r"^\s*(auto(matic)?[ -]?(reply|response)|out of (the )?office|balasan otomatis|sedang cuti)",
	re.IGNORECASE,
)
BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
# What Frappe's Email Queue names as the reference of mail to a worker (an acknowledgement, a reply).
TO_WORKERS = ("Contact Handle", "Case Message")
CODE_IN_SUBJECT = re.compile(r"\b([0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5})\b", re.IGNORECASE)


class IntakeEmailAccount(EmailAccount):
	"""Frappe's Email Account; an intake folder's mail goes to the inbox, raw, instead of Communication."""

	def get_inbound_mails(self):
		mails = super().get_inbound_mails()
		others = []
		for mail in mails:
			append_to = mail.append_to if self.use_imap else self.append_to
			if append_to == GRIEVANCE:
				receive(self.name, mail.raw_message)
			else:
				others.append(mail)
		return others


def mailbox_union(email_account: str) -> str | None:
	return frappe.db.get_value(
		"Intake Mailbox", {"parent": SETTINGS, "email_account": email_account}, "union"
	)


def as_bytes(raw) -> bytes:
	return raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "surrogateescape")


def parse(raw: bytes) -> EmailMessage:
	return email.message_from_bytes(raw, policy=email.policy.default)


def header(message, name: str) -> str:
	"""A header as text, however broken its encoding (RFC 2047, 8-bit, unknown charsets)."""
	try:
		value = message.get(name)
	except Exception:
		value = None
		for key, raw_value in message.raw_items():
			if key.lower() == name.lower():
				value = raw_value
				break
	if value is None:
		return ""
	# 8-bit bytes in a header arrive as surrogates: read them as UTF-8, else replaced
	text = str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
	return " ".join(text.split())


def message_ids(value: str) -> list[str]:
	return re.findall(r"<([^<>\s]+)>", value or "")


def delivery_key(raw: bytes, message) -> str:
	"""The mail's Message-ID (one record per mail however often it is delivered), else its content's hash."""
	ids = message_ids(header(message, "Message-ID"))
	key = ids[0] if ids else "sha256:" + hashlib.sha256(raw).hexdigest()
	if len(key) > MAX_KEY or not (key.isascii() and key.isprintable()):
		key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
	return key


def receive(email_account: str, raw) -> tuple[str, bool]:
	"""Store one fetched mail in the inbox (committed) and queue its processing."""
	raw = as_bytes(raw)
	message = parse(raw)
	name, created = inbox.receive(
		CHANNEL,
		delivery_key(raw, message),
		{"raw": base64.b64encode(raw).decode(), "email_account": email_account},
		union=mailbox_union(email_account),
		summary=_("Email: {0} bytes").format(len(raw)),
	)
	if created and frappe.db.exists("Email Account", email_account):
		frappe.db.set_value(inbox.INBOUND, name, "email_account", email_account, update_modified=False)
		frappe.db.commit()
	return name, created


# --- processing (the inbox's job) -----------------------------------------------------------------


def process_mail(inbound, payload: dict) -> Outcome:
	raw = base64.b64decode(payload["raw"])
	message = parse(raw)
	account = payload.get("email_account")
	if reason := auto_reply_reason(message):
		return Outcome(inbox.IGNORED, reason)
	if is_bounce(message):
		return Outcome(inbox.IGNORED, record_bounce(message))
	sender = sender_address(message)
	own = frappe.db.get_value("Email Account", account, "email_id") if account else None
	if sender and own and sender.lower() == own.lower():
		return Outcome(inbox.IGNORED, _("Sent by the mailbox itself: not a worker's message."))
	body, flags = text_of(message)
	attachments, unsafe = attachments_of(message)
	if unsafe:
		return Outcome(
			inbox.QUARANTINED,
			_("Unsafe attachment ({0}): kept only in the encrypted raw mail, never served.").format(
				", ".join(unsafe)
			),
		)
	grievance = thread_of(message)
	if grievance:
		inbound.kind = "Follow-up"
		conversation.record_inbound(grievance, CHANNEL, new_content(body), inbound.name)
		save_attachments(attachments, grievance)
		frappe.get_doc(GRIEVANCE, grievance).add_comment("Info", _("The worker wrote again by email."))
		return Outcome(inbox.PROCESSED, join_reason(flags), grievance)
	return new_case(inbound, message, sender, body, attachments, flags, account)


def auto_reply_reason(message) -> str | None:
	auto_submitted = header(message, "Auto-Submitted").lower()
	if auto_submitted and auto_submitted != "no":
		return _("Auto-reply (Auto-Submitted: {0}): no case and no acknowledgement.").format(auto_submitted)
	for name in AUTO_HEADERS:
		if header(message, name):
			return _("Auto-reply ({0}): no case and no acknowledgement.").format(name)
	precedence = header(message, "Precedence").lower()
	if precedence in AUTO_PRECEDENCE:
		return _("Automatic mail (Precedence: {0}): no case and no acknowledgement.").format(precedence)
	if AUTO_SUBJECT.match(header(message, "Subject")):
		return _("Auto-reply (by its subject): no case and no acknowledgement.")
	return None


def is_bounce(message) -> bool:
	content_type = message.get_content_type()
	report_type = (message.get_param("report-type") or "").lower()
	if content_type == "multipart/report" and report_type == "delivery-status":
		return True
	local = (sender_address(message) or "").split("@")[0].lower()
	return local in BOUNCE_SENDERS or header(message, "Return-Path") == "<>"


def record_bounce(message) -> str:
	"""Mark unreachable the contact handle whose mail bounced; the reason names no address."""
	ids = set(message_ids(header(message, "In-Reply-To")) + message_ids(header(message, "References")))
	for part in message.walk():
		if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
			try:
				original = (
					part.get_payload(0) if part.is_multipart() else parse(part.get_payload(decode=True))
				)
				ids.update(message_ids(header(original, "Message-ID")))
			except Exception:
				continue
	for case_message in case_messages_of(ids):
		if contact := frappe.db.get_value("Case Message", case_message, "contact_handle"):
			handle.mark_unreachable(contact, _("Mail to this worker bounced."))
			return _("Bounce: the worker's address did not accept mail; marked unreachable.")
	return _("Bounce of a mail this site did not send to a worker.")


def sender_address(message) -> str | None:
	_name, address = parseaddr(header(message, "Reply-To") or header(message, "From"))
	address = validate_email_address(address) if address else ""
	return address if address and "," not in address else None


def text_of(message) -> tuple[str, list[str]]:
	"""The mail's text (plain preferred, else HTML made plain), decoded whatever its charset; and flags."""
	flags = []
	if message.defects:
		flags.append(_("The mail's structure was damaged; decoded as far as possible."))
	plain, html = None, None
	for part in message.walk():
		if part.is_multipart() or part.get_content_disposition() == "attachment":
			continue
		if part.get_content_type() == "text/plain" and plain is None:
			plain = decoded_text(part, flags)
		elif part.get_content_type() == "text/html" and html is None:
			html = decoded_text(part, flags)
	if plain is None and html is not None:
		plain = strip_html(re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", html))
	return (plain or "").strip(), flags


def decoded_text(part, flags: list) -> str:
	payload = part.get_payload(decode=True) or b""
	charset = part.get_content_charset() or "us-ascii"
	try:
		return payload.decode(charset)
	except (LookupError, UnicodeDecodeError):
		pass
	try:
		return payload.decode("utf-8")
	except UnicodeDecodeError:
		flags.append(_("Part of the text was in an unknown character set and was read as Latin-1."))
		return payload.decode("latin-1")


def new_content(body: str) -> str:
	"""What the worker wrote now, without the quoted history of earlier mail."""
	try:
		reply = EmailReplyParser.parse_reply(body)
	except Exception:
		reply = body
	return (reply or body).strip()


def attachments_of(message) -> tuple[list[bytes], list[str]]:
	"""Allowed attachments' content, and a description of each unsafe one (by content, not by name)."""
	kept, unsafe = [], []
	limit = (frappe.db.get_single_value(SETTINGS, "max_file_mb") or 5) * 1024 * 1024
	for position, part in enumerate(message.iter_attachments(), start=1):
		try:
			content = part.get_payload(decode=True) or b""
		except Exception:
			content = b""
		if part.get_content_maintype() == "message" or not content:
			continue
		if reason := files.check(content, limit):
			unsafe.append(_("attachment {0}: {1}").format(position, reason))
		else:
			kept.append(content)
	return kept, unsafe


def save_attachments(attachments: list[bytes], grievance: str):
	for content in attachments:
		files.save(content, GRIEVANCE, grievance, f"email-{frappe.generate_hash(length=8)}")


def case_messages_of(ids) -> list[str]:
	"""Case Messages whose mail (Frappe's Email Queue) had one of these Message-IDs."""
	if not ids:
		return []
	return frappe.get_all(
		"Email Queue",
		filters={"message_id": ["in", list(ids)], "reference_doctype": "Case Message"},
		pluck="reference_name",
	)


def thread_of(message) -> str | None:
	"""The case a reply belongs to: a mail of the case it answers, else the tracking code in its subject."""
	ids = message_ids(header(message, "In-Reply-To")) + message_ids(header(message, "References"))
	if ids:
		sent = frappe.get_all(
			"Email Queue",
			filters={"message_id": ["in", ids], "reference_doctype": ["in", TO_WORKERS]},
			fields=["reference_doctype", "reference_name"],
			limit=1,
		)
		if sent:
			return frappe.db.get_value(sent[0].reference_doctype, sent[0].reference_name, "grievance")
		if earlier := frappe.db.get_value(
			inbox.INBOUND,
			{"dedup_key": ["in", [f"email:{key}" for key in ids]], "grievance": ["is", "set"]},
			"grievance",
		):
			return earlier
	for candidate in CODE_IN_SUBJECT.findall(header(message, "Subject")):
		if code := tracking.normalise(candidate):
			if grievance := handle.case_for_code_hash(tracking.code_hash(code)):
				return grievance
	return None


def join_reason(flags: list[str]) -> str | None:
	return " ".join(flags) or None


def owning_union(inbound) -> str | None:
	"""The mailbox's union (Intake Settings > Mailboxes), else the default intake union."""
	return inbound.union or frappe.db.get_single_value(SETTINGS, "default_union")


def new_case(inbound, message, sender, body, attachments, flags, account) -> Outcome:
	union = owning_union(inbound)
	if not union:
		raise frappe.ValidationError("No intake union: list the mailbox in Intake Settings or set a default")
	subject = " ".join(header(message, "Subject").split())[:MAX_SUBJECT] or _("Report by email")
	content = body or _("(The mail had no text.)")
	# the address stays behind the contact handle: no official sees who wrote
	case = inbox.open_anonymous_case(union, CHANNEL, subject, content, inbound.received_on)
	code = tracking.new_code()
	contact = handle.create(case.name, tracking.code_hash(code), sender, handle.EMAIL if sender else None)
	conversation.record_inbound(case.name, CHANNEL, content, inbound.name)
	save_attachments(attachments, case.name)
	if sender:
		acknowledge(contact, sender, subject, code, account)
	else:
		flags.append(_("No sender address: the worker can only follow the case with its tracking code."))
	return Outcome(inbox.PROCESSED, join_reason(flags), case.name)


def acknowledge(contact: str, recipient: str, subject: str, code: str, account: str | None):
	"""The tracking code to the sender only (never to the other recipients), through Frappe's email queue.

	The queued mail names the contact handle, not the case: mail to workers is hidden from every
	list of the Email Queue (unioncase.intake.permissions), since it holds their address.
	"""
	link = get_url(f"{conversation.TRACKING_PATH}?kode={tracking.display(code)}")
	frappe.sendmail(
		recipients=[recipient],
		sender=sender_of(account),
		subject=_("[{0}] Your report was received: {1}").format(tracking.display(code), subject)[:250],
		message="<p>{}</p><p>{}</p><p>{}</p>".format(
			_("Your union received your report. Your tracking code is {0}.").format(
				f"<strong>{tracking.display(code)}</strong>"
			),
			_("Follow your case on {0}, or answer this mail to add information.").format(
				f'<a href="{link}">{link}</a>'
			),
			_("Keep the code to yourself: whoever has it can read the union's messages to you."),
		),
		reference_doctype=handle.HANDLE,
		reference_name=contact,
		message_id=new_message_id(),
		add_unsubscribe_link=0,
	)


def sender_of(account: str | None) -> str | None:
	return frappe.db.get_value("Email Account", account, "email_id") if account else None


def new_message_id() -> str:
	return f"{frappe.generate_hash(length=20)}@{frappe.local.site or 'unioncase'}"


def reply_account(grievance: str) -> str | None:
	"""The mailbox the worker last wrote to: replies go out through it, so answers come back there. A case
	that came another way (the web page, with an email address) is answered from its union's mailbox
	(Intake Settings > Mailboxes), else from the site's default outgoing account."""
	last = frappe.db.get_value(
		inbox.INBOUND,
		{"grievance": grievance, "channel": CHANNEL, "email_account": ["is", "set"]},
		"email_account",
		order_by="creation desc",
	)
	if last:
		return last
	union = frappe.db.get_value("Grievance", grievance, "owning_union")
	return frappe.db.get_value("Intake Mailbox", {"parent": SETTINGS, "union": union}, "email_account")


def content_for_merge(payload: dict, keep_attachments: bool) -> tuple[str, list[bytes]]:
	"""A stored mail's new text and safe attachments, for an official's merge into a case."""
	message = parse(base64.b64decode(payload["raw"]))
	body, _flags = text_of(message)
	attachments, _unsafe = attachments_of(message) if keep_attachments else ([], [])
	return new_content(body), attachments
