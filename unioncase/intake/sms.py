"""SMS through a generic HTTP gateway: the webhook workers' texts arrive on, and SMS sent back.

Inbound (`webhook`, guest-allowed, POST): the gateway's post is authenticated with the shared secret of
SMS Intake Settings (HMAC-SHA256 of the raw body, or a token the admin set, compared in constant time)
before anything parses the body. A refused post stores nothing and is only counted. An accepted post
(form-encoded or JSON) is stored in the inbox once, by the gateway's message id, and processed by the
inbox's job (`open_or_join`): with *Guided First Contact* on (SMS Intake Settings, on by default) a first
SMS starts the guided conversation of `guided.py`, the same one WhatsApp uses, its questions sent as
short numbered SMS (reply "1", "2"...; "0" for a person; "EN" for English) and the case opened once they
are answered; off, a first SMS opens an anonymous case at once. Either way a later SMS from a number with
an open case (WhatsApp or SMS, by the number's keyed hash) joins it, unless the worker sends "BARU". The
parts of a long message (the gateway's reference, part number and total) are each stored as received
and joined in order, whatever order they came in, before the whole text is processed once; a delivery
report updates the delivery status of the union's message it reports on.

Outbound (`send`, the delivery job's sender; `send_text` for other callers): a guided prompt goes as its
text and numbered choices (`guided.as_text`), the acknowledgement in the worker's language; one request
to the gateway of Frappe's SMS Settings (URL, GET or POST, form or JSON, message and receiver
parameters, static parameters and headers), with the credential of SMS
Intake Settings (a Password field; Frappe's parameter values are plain text). 429 and 5xx are
`DeliveryDeferred` (the conversation's delivery job retries with backoff), other 4xx `DeliveryRefused`.
Frappe's own `send_sms` is not used: it writes every number to SMS Log, readable by System Managers,
returns no message id and does not tell a refusal from a rate limit.
"""

import hashlib
import hmac
import json
from datetime import timedelta
from urllib.parse import parse_qsl

import frappe
import requests
from frappe import _
from frappe.utils import cint, get_url, now_datetime
from frappe.utils.password import get_decrypted_password
from werkzeug.wrappers import Response

from unioncase.intake import conversation, guided, handle, inbox, tracking, whatsapp
from unioncase.intake.conversation import DeliveryDeferred, DeliveryRefused
from unioncase.intake.inbox import Outcome
from unioncase.intake.phone import normalize_phone
from unioncase.privacy.masking import mask_contacts_in_text

SETTINGS = "SMS Intake Settings"
GATEWAY = "SMS Settings"  # Frappe's own
CHANNEL = "SMS"
MAX_BODY = 64 * 1024
MAX_ID = 90  # "sms:status:<id>:<status>" fits the 140 characters of the delivery key
MAX_TEXT = 10000
MAX_INBOUND_PARTS = 20
# A guided prompt (the Consent Text in force, say) may take this many parts even if fewer are allowed.
MAX_PROMPT_PARTS = 10
TIMEOUT = (5, 30)
# How long the first part of a long message waits for the others before what came is joined.
PART_WAIT = timedelta(minutes=10)
# How far back the scheduler looks for parts to join (it runs every few minutes; a bound keeps it off the
# site's whole history): a part that waited longer, the scheduler down for a week, stays as it came.
PART_HORIZON = timedelta(days=7)
HMAC_MODE, TOKEN_MODE = "HMAC Signature", "Token"
PER_PART = "One request per part"
E164, NO_PLUS, NATIONAL = "E.164 (+62812...)", "International without + (62812...)", "National (0812...)"
# Gateways' delivery report words, to the Case Message's delivery status.
STATUSES = {
	"accepted": "Sent",
	"buffered": "Sent",
	"sent": "Sent",
	"submitted": "Sent",
	"delivered": "Delivered",
	"failed": "Failed",
	"rejected": "Failed",
	"expired": "Failed",
	"undeliverable": "Failed",
	"undelivered": "Failed",
}

# --- GSM 03.38 and UCS-2 lengths ----------------------------------------------------------------

GSM_BASIC = frozenset(
	"@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each is sent as ESC + a character, two septets.
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
GSM7, UCS2 = "GSM-7", "UCS-2"
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


def encoding_of(text: str) -> str:
	return GSM7 if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text) else UCS2


def unit_length(character: str, encoding: str) -> int:
	"""Septets (GSM-7) or UTF-16 code units (UCS-2) one character takes."""
	if encoding == GSM7:
		return 2 if character in GSM_EXTENSION else 1
	return 2 if ord(character) > 0xFFFF else 1


def length_of(text: str) -> tuple[str, int]:
	encoding = encoding_of(text)
	return encoding, sum(unit_length(c, encoding) for c in text)


def segments(text: str) -> list[str]:
	"""The parts an SMS of `text` is sent as: one up to 160 GSM-7 septets or 70 UCS-2 units, else parts
	of at most 153 / 67 (the rest of each part is the concatenation header); an extension character
	(two septets) or a surrogate pair is never cut in two."""
	encoding, total = length_of(text)
	single, part_size = LIMITS[encoding]
	if total <= single:
		return [text]
	parts, current, used = [], [], 0
	for character in text:
		size = unit_length(character, encoding)
		if used + size > part_size:
			parts.append("".join(current))
			current, used = [], 0
		current.append(character)
		used += size
	if current:
		parts.append("".join(current))
	return parts


# --- settings -----------------------------------------------------------------------------------


def settings() -> frappe._dict:
	values = frappe.db.get_singles_dict(SETTINGS)

	def name(field, default):
		return (values.get(field) or default).strip()

	return frappe._dict(
		enabled=bool(cint(values.get("enabled"))),
		default_union=values.get("default_union"),
		auth_mode=values.get("auth_mode") or HMAC_MODE,
		auth_header=name("auth_header", "X-Signature"),
		sender=name("sender_parameter", "msisdn"),
		receiver=name("receiver_parameter", "to"),
		text=name("text_parameter", "text"),
		message_id=name("message_id_parameter", "messageId"),
		part_reference=name("part_reference_parameter", "concat-ref"),
		part_number=name("part_number_parameter", "concat-part"),
		part_total=name("part_total_parameter", "concat-total"),
		status=name("status_parameter", "status"),
		error=name("error_parameter", "err-code"),
		auth_type=values.get("auth_type") or "None",
		auth_name=(values.get("auth_name") or "").strip(),
		number_format=values.get("number_format") or E164,
		split_mode=values.get("split_mode") or "Gateway joins the parts",
		max_parts=cint(values.get("max_parts")) or 6,
		message_id_path=(values.get("message_id_path") or "message_id").strip(),
		# on unless turned off (a site that never saved the field has it on)
		guided=bool(cint(values.get("guided_intake", 1))),
	)


def secret(field: str) -> str | None:
	return get_decrypted_password(SETTINGS, SETTINGS, field, raise_exception=False)


# --- the webhook --------------------------------------------------------------------------------


@frappe.whitelist(allow_guest=True, methods=["POST"])
def webhook() -> Response:
	"""The gateway's callback URL for incoming SMS and delivery reports."""
	config = settings()
	shared = secret("inbound_secret")
	if not (shared and config.enabled):
		count_rejection("not configured")
		return answer(
			503,
			_("SMS is not set up on this site: enable it and set the Shared Secret in SMS Intake Settings."),
		)
	length = frappe.request.content_length
	if length and length > MAX_BODY:
		count_rejection("too large")
		return answer(413, _("The body is larger than {0} KB.").format(MAX_BODY // 1024))
	raw = frappe.request.get_data(cache=True)
	refusal = authenticate(raw, config, shared)
	if refusal:
		count_rejection("unsigned" if refusal[0] == 401 else "bad secret")
		return answer(*refusal)
	# authenticated: now, and only now, the body is read
	if len(raw) > MAX_BODY:
		return answer(413, _("The body is larger than {0} KB.").format(MAX_BODY // 1024))
	if not raw.strip():
		return answer(
			400,
			_("The body is empty: an SMS post needs at least {0} and {1}.").format(
				config.message_id, config.sender
			),
		)
	fields = parse(raw, frappe.request.mimetype)
	if fields is None:
		return answer(
			415, _("The body is neither form-encoded (application/x-www-form-urlencoded) nor a JSON object.")
		)
	problem = missing_field(fields, config)
	if problem:
		return answer(400, problem)
	store(fields, config)
	return answer(200)


def answer(status: int, message: str | None = None) -> Response:
	body = json.dumps({"message": message} if message else {"ok": True}, ensure_ascii=False)
	return Response(body, status=status, mimetype="application/json")


def authenticate(raw: bytes, config, shared: str) -> tuple[int, str] | None:
	"""None when the post carries the shared secret; else (status, why) without reading the body."""
	given = frappe.request.headers.get(config.auth_header) or ""
	if config.auth_mode == TOKEN_MODE:
		given = given or frappe.request.args.get("token") or ""
		if not given:
			return 401, _("The token is missing: send it in the {0} header.").format(config.auth_header)
		if not hmac.compare_digest(given.encode(errors="replace"), shared.encode()):
			return 403, _("The token does not match SMS Intake Settings.")
		return None
	if not given:
		return 401, _("The {0} header (HMAC-SHA256 of the body) is missing.").format(config.auth_header)
	signature = given.strip().lower().removeprefix("sha256=")
	expected = hmac.new(shared.encode(), raw, hashlib.sha256).hexdigest()
	if not hmac.compare_digest(expected.encode(), signature.encode(errors="replace")):
		return 403, _("The {0} signature does not match the body.").format(config.auth_header)
	return None


def count_rejection(reason: str):
	inbox.count_refused(CHANNEL, reason)


def rejected_today() -> int:
	return inbox.refused_today(CHANNEL)


def clean(value) -> str:
	"""A posted value as text a database and the encrypted payload can hold (lone surrogates, NULs)."""
	if isinstance(value, bytes):
		value = value.decode("utf-8", errors="replace")
	elif not isinstance(value, str):
		value = json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else str(value)
	return value.encode("utf-8", errors="replace").decode("utf-8").replace("\x00", "")


def parse(raw: bytes, mimetype: str | None) -> dict[str, str] | None:
	"""The post's fields, from a JSON object or a form-encoded body (as gateways send them)."""
	if mimetype == "application/json" or raw.lstrip()[:1] == b"{":
		try:
			body = json.loads(raw)
		except ValueError:
			return None
		if not isinstance(body, dict):
			return None
		return {clean(key): clean(value) for key, value in body.items() if value is not None}
	if mimetype == "multipart/form-data":
		return {clean(key): clean(value) for key, value in frappe.request.form.items()}
	try:
		text = raw.decode("utf-8")
	except UnicodeDecodeError:
		text = raw.decode("latin-1")
	try:
		pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
	except ValueError:
		return None
	return {clean(key): clean(value) for key, value in pairs}


def is_status(fields: dict, config) -> bool:
	return bool(fields.get(config.status)) and not fields.get(config.text)


def missing_field(fields: dict, config) -> str | None:
	message_id = fields.get(config.message_id, "").strip()
	if not message_id:
		return _("The post has no {0} (the gateway's message id).").format(config.message_id)
	if len(message_id) > MAX_ID:
		return _("{0} is longer than {1} characters.").format(config.message_id, MAX_ID)
	if is_status(fields, config):
		return None
	if not fields.get(config.sender, "").strip():
		return _("The post has no {0} (the sender's number).").format(config.sender)
	if len(fields.get(config.text, "")) > MAX_TEXT:
		return _("{0} is longer than {1} characters.").format(config.text, MAX_TEXT)
	return None


def part_of(fields: dict, config) -> tuple[str, int, int] | None:
	"""(reference, part number, total) of one part of a long message, or None for a whole message."""
	reference = fields.get(config.part_reference, "").strip()
	try:
		number, total = int(fields.get(config.part_number, "")), int(fields.get(config.part_total, ""))
	except ValueError:
		return None
	if not reference or not 1 <= number <= total <= MAX_INBOUND_PARTS or total == 1:
		return None
	return reference[:MAX_ID], number, total


def part_group(fields: dict, config, part: tuple[str, int, int]) -> str:
	"""The parts of one message share the sender, the reference and the total; hashed with the site's key
	(the field holds no number)."""
	reference, _number, total = part
	return whatsapp.address_hash(f"sms-parts:{fields.get(config.sender, '').strip()}:{reference}:{total}")


def store(fields: dict, config) -> str:
	message_id = fields[config.message_id].strip()
	if is_status(fields, config):
		status = fields[config.status].strip().lower()[:30]
		name, _created = inbox.receive(
			CHANNEL,
			f"status:{message_id}:{status}",
			{"fields": fields},
			kind="Delivery Status",
			summary=_("SMS delivery report ({0})").format(status),
		)
		return name
	part = part_of(fields, config)
	group = part_group(fields, config, part) if part else None
	name, _created = inbox.receive(
		CHANNEL,
		message_id,
		{"fields": fields},
		summary=_("SMS part {0} of {1}").format(part[1], part[2]) if part else _("SMS message"),
		after_insert=(lambda inserted: frappe.db.set_value(inbox.INBOUND, inserted, "part_group", group))
		if group
		else None,
	)
	return name


# --- processing (the inbox's job) ---------------------------------------------------------------


def process(inbound, payload: dict) -> Outcome:
	"""An SMS: open a case or join the sender's open one; a part waits for the others of its message."""
	config = settings()
	fields = payload.get("fields") if isinstance(payload.get("fields"), dict) else {}
	try:
		number = normalize_phone(fields.get(config.sender, "").strip(), "SMS sender")
	except frappe.ValidationError:
		frappe.clear_messages()
		return Outcome(inbox.IGNORED, _("The sender of the SMS is not a valid phone number."))
	if not number:
		return Outcome(inbox.IGNORED, _("The SMS has no sender."))
	part = None if payload.get("joined") else part_of(fields, config)
	if part:
		return process_part(inbound, fields, config, part, number)
	text = fields.get(config.text, "").strip()
	if not text:
		return Outcome(inbox.IGNORED, _("An empty SMS; kept as received."))
	grievance = open_or_join(inbound, number, text, fields.get(config.receiver, ""))
	return Outcome(inbox.PROCESSED, grievance=grievance)


def joined_key(group: str) -> str:
	return f"{CHANNEL.lower()}:joined:{group}"


def process_part(inbound, fields: dict, config, part, number: str) -> Outcome:
	_reference, number_of_part, total = part
	group = inbound.part_group or part_group(fields, config, part)
	if joined := frappe.db.get_value(inbox.INBOUND, {"dedup_key": joined_key(group)}):
		joined_payload = inbox.payload_of(frappe.get_doc(inbox.INBOUND, joined))
		if inbound.name in (joined_payload.get("parts") or []):
			# all parts were there when an earlier part's job ran: this one is in the joined message
			return Outcome(
				inbox.PROCESSED,
				_("Part {0} of {1}; the message was joined in {2}.").format(number_of_part, total, joined),
			)
		if number_of_part in (joined_payload.get("numbers") or []):
			return Outcome(
				inbox.IGNORED,
				_("Part {0} of {1} again, under another id: it is in the joined message {2}.").format(
					number_of_part, total, joined
				),
			)
		# a part that came after what had arrived was joined: it is added on its own
		text = fields.get(config.text, "").strip()
		if not text:
			return Outcome(inbox.IGNORED, _("An empty part of an SMS joined before it came."))
		grievance = open_or_join(inbound, number, text, fields.get(config.receiver, ""))
		return Outcome(
			inbox.PROCESSED,
			_("Part {0} of {1} came after the message was joined ({2}); added on its own.").format(
				number_of_part, total, joined
			),
			grievance=grievance,
		)
	joined = join_group(group)
	if not joined:
		return Outcome(
			inbox.PROCESSED, _("Part {0} of {1}; waiting for the other parts.").format(number_of_part, total)
		)
	return Outcome(
		inbox.PROCESSED,
		_("Part {0} of {1}; the message was joined in {2}.").format(number_of_part, total, joined),
	)


def join_group(group: str, force: bool = False) -> str | None:
	"""Once every part of a long message is stored (or, with `force`, once it waited long enough), store the
	text joined in part order as one inbox message, processed once (its key is the group's)."""
	config = settings()
	rows = frappe.get_all(
		inbox.INBOUND,
		filters={"part_group": group, "channel": CHANNEL},
		fields=["name", "payload", "received_on", "dedup_key"],
		order_by="creation asc",
	)
	parts, total, first = {}, None, None
	for row in rows:
		fields = inbox.payload_of(row).get("fields") or {}
		part = part_of(fields, config)
		if not part:
			continue
		total = part[2]
		if part[1] not in parts:  # the same part sent again under another id: the first one counts
			parts[part[1]] = (fields, row.name)
			first = first or fields
	if not parts or (len(parts) < total and not force):
		return None
	texts = []
	for position in range(1, total + 1):
		if position in parts:
			texts.append(parts[position][0].get(config.text, ""))
		else:
			texts.append(_("[part {0} of {1} did not arrive]").format(position, total))
	fields = dict(first)
	fields[config.text] = "".join(texts)
	name, _created = inbox.receive(
		CHANNEL,
		f"joined:{group}",
		{
			"fields": fields,
			"joined": True,
			"numbers": sorted(parts),
			"parts": [parts[p][1] for p in sorted(parts)],
		},
		summary=_("SMS of {0} parts, joined").format(total),
	)
	return name


def join_waiting_parts() -> list[str]:
	"""Scheduler: join the parts of long messages whose other parts stopped arriving."""
	cutoff = now_datetime() - PART_WAIT
	# only groups not joined yet, within the horizon: the site's history of joined groups is never read
	groups = frappe.db.sql_list(
		f"""select distinct part.part_group from `tab{inbox.INBOUND}` part
		where part.channel = %(channel)s and ifnull(part.part_group, '') != ''
			and part.received_on < %(cutoff)s and part.received_on > %(horizon)s
			and not exists (select 1 from `tab{inbox.INBOUND}` joined
				where joined.dedup_key = concat(%(prefix)s, part.part_group))
		limit 200""",
		{"channel": CHANNEL, "cutoff": cutoff, "horizon": cutoff - PART_HORIZON, "prefix": joined_key("")},
	)
	joined = []
	for group in groups:
		if name := join_group(group, force=True):
			joined.append(name)
	frappe.db.commit()
	return joined


def open_or_join(inbound, number: str, text: str, receiving_number: str | None = None) -> str | None:
	"""The one place an SMS becomes part of a case: with Guided First Contact on, the guided conversation
	(which joins the sender's open case, continues their conversation or starts one: the case, or None
	while questions remain); off, the sender's open case (WhatsApp or SMS, by the number's keyed hash), or
	a new anonymous case with its handle and an acknowledgement."""
	number_hash = whatsapp.address_hash(number)
	if settings().guided:
		sender = guided.Sender(
			number=number, address_hash=number_hash, union=receiving_union(receiving_number)
		)
		return guided.handle(CHANNEL, sender, text, None, inbound).grievance
	found = whatsapp.open_case_of(number_hash)
	if found:
		grievance = found[0]
		conversation.record_inbound(grievance, CHANNEL, text, inbound.name)
		frappe.get_doc("Grievance", grievance).add_comment("Info", _("The worker wrote again by SMS."))
		return grievance
	union = receiving_union(receiving_number)
	case = inbox.open_anonymous_case(
		union, CHANNEL, whatsapp.subject_of(text) or _("Report by SMS"), text, inbound.received_on
	)
	code = tracking_code(inbound.dedup_key)
	contact = handle.create(case.name, tracking.code_hash(code), number, handle.PHONE)
	frappe.db.set_value(handle.HANDLE, contact, "address_hash", number_hash)
	conversation.record_inbound(case.name, CHANNEL, text, inbound.name)
	conversation.queue_acknowledgement(case.name, CHANNEL, contact, inbound.name)
	return case.name


def receiving_union(receiving_number: str | None) -> str:
	"""The union of the number the worker wrote to (Receiving Numbers), else the Receiving Union."""
	try:
		receiving = normalize_phone((receiving_number or "").strip() or None, "Receiving number")
	except frappe.ValidationError:
		frappe.clear_messages()
		receiving = None
	union = None
	if receiving:
		union = frappe.db.get_value(
			"SMS Receiving Number", {"parent": SETTINGS, "number": receiving}, "union"
		)
	union = union or settings().default_union
	union = union or frappe.db.get_single_value("Intake Settings", "default_union")
	if not union:
		raise frappe.ValidationError("No intake union: set the Receiving Union in SMS Intake Settings")
	return union


def tracking_code(dedup_key: str) -> str:
	"""The case's tracking code, derived from the first message's key with the site's key, never stored."""
	return guided.code_for_key(dedup_key)


def acknowledgement_text(doc) -> str:
	"""One SMS with the code, in the worker's language (Bahasa Indonesia unless they chose English)."""
	dedup_key = frappe.db.get_value(inbox.INBOUND, doc.inbound_message, "dedup_key")
	language = frappe.db.get_value(handle.HANDLE, doc.contact_handle, "language") or whatsapp.WORKER_LANGUAGE
	return guided.in_language(
		"Your report was received by the union. Tracking code: {0}. Keep it to yourself. "
		"Follow your case on {1} or reply to this SMS.",
		language,
	).format(tracking.display(tracking_code(dedup_key)), get_url(conversation.TRACKING_PATH))


def process_status(inbound, payload: dict) -> Outcome:
	"""A delivery report: the delivery status of an SMS the union sent (never back in time)."""
	config = settings()
	fields = payload.get("fields") or {}
	message_id = fields.get(config.message_id, "").strip()
	new = STATUSES.get(fields.get(config.status, "").strip().lower())
	message = (
		frappe.db.get_value(
			conversation.CASE_MESSAGE,
			{"provider_message_id": message_id, "channel": CHANNEL},
			["name", "grievance", "delivery_status"],
			as_dict=True,
		)
		if message_id
		else None
	)
	if not message and message_id:
		# one request per part: the message keeps its parts' ids, joined by commas
		escaped = message_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
		found = frappe.get_all(
			conversation.CASE_MESSAGE,
			filters={"channel": CHANNEL},
			or_filters=[
				["provider_message_id", "like", f"{escaped},%"],
				["provider_message_id", "like", f"%,{escaped}"],
				["provider_message_id", "like", f"%,{escaped},%"],
			],
			fields=["name", "grievance", "delivery_status"],
			limit=1,
		)
		message = found[0] if found else None
	if not new or not message:
		return Outcome(inbox.IGNORED, _("No SMS of the union has this message id or status."))
	values = {}
	if new == conversation.FAILED:
		values = {
			"delivery_status": new,
			"next_attempt_on": None,
			"error": _("The SMS gateway could not deliver the message: {0} (error {1})").format(
				fields.get(config.status, "")[:40], fields.get(config.error, "")[:40] or "?"
			),
		}
	elif whatsapp.STATUS_RANK[new] > whatsapp.STATUS_RANK.get(message.delivery_status, 0):
		values = {"delivery_status": new}
	if values:
		frappe.db.set_value(conversation.CASE_MESSAGE, message.name, values)
	return Outcome(inbox.PROCESSED, grievance=message.grievance)


# --- outbound -----------------------------------------------------------------------------------


def too_long(text: str, most: int | None = None) -> str | None:
	parts, most = len(segments(text)), most or settings().max_parts
	if parts > most:
		return _("The message needs {0} SMS parts; at most {1} are sent (SMS Intake Settings).").format(
			parts, most
		)
	return None


def check_reply(text: str):
	"""Called before an official's SMS reply is queued: refuse one longer than the parts allowed."""
	if reason := too_long(text):
		frappe.throw(reason, title=_("Message too long"))


def send(doc):
	"""The delivery job's SMS sender: the acknowledgement (its code made now) or the official's reply.

	Sent part by part, a retry resumes after the parts the gateway took (their ids are kept at once)."""
	number = handle.resolve(doc.contact_handle)
	if not number:
		raise DeliveryRefused(_("The worker's contact handle has no number."))
	most = None
	if doc.inbound_message:
		text = acknowledgement_text(doc)
	elif doc.get("purpose") == guided.PROMPT:
		text = guided.as_text(doc.content, doc.get("options"))  # no buttons: numbered lines
		# the consent text must reach the worker whole, however long the admin wrote it
		most = max(settings().max_parts, MAX_PROMPT_PARTS)
	else:
		text = doc.content
	sent = [part for part in (doc.provider_message_id or "").split(",") if part]
	try:
		ids = deliver_parts(number, text, sent, most)
	except DeliveryDeferred as error:
		if len(error.sent_ids) > len(sent):
			doc.db_set("provider_message_id", ",".join(error.sent_ids)[:140])
			frappe.db.commit()  # the delivery job rolls back a failure: the parts sent stay recorded
		raise
	doc.db_set("provider_message_id", ",".join(ids)[:140])


def receiver_of(number: str, number_format: str) -> str:
	if number_format == NO_PLUS:
		return number.lstrip("+")
	if number_format == NATIONAL:
		import phonenumbers

		national = phonenumbers.format_number(
			phonenumbers.parse(number), phonenumbers.PhoneNumberFormat.NATIONAL
		)
		return "".join(c for c in national if c.isdecimal())
	return number


def send_text(number: str, text: str) -> str:
	"""Send one SMS (several parts if it is long) to `number` through the configured gateway.

	Returns the gateway's message id (with one request per part, the parts' ids joined by commas).
	Raises DeliveryRefused for good (a 4xx, a number that is not one, a message longer than the parts
	allowed) and DeliveryDeferred to be retried (429, 5xx, the gateway unreachable, not configured).
	"""
	return ",".join(deliver_parts(number, text, []))


def gateway_configured(gateway=None) -> bool:
	"""Whether Frappe's SMS Settings name a gateway to send through."""
	gateway = gateway or frappe.get_single(GATEWAY)
	return bool(gateway.sms_gateway_url and gateway.message_parameter and gateway.receiver_parameter)


def deliver_parts(number: str, text: str, sent: list[str], most: int | None = None) -> list[str]:
	"""The ids of every part; the first `len(sent)` parts were sent before (one request per part).
	`most`: the parts allowed, else Most Parts per Message."""
	config = settings()
	gateway = frappe.get_single(GATEWAY)
	if not gateway_configured(gateway):
		raise DeliveryDeferred("SMS Settings has no gateway URL, message parameter or receiver parameter")
	try:
		number = normalize_phone(number, "SMS number")
	except frappe.ValidationError:
		frappe.clear_messages()
		raise DeliveryRefused(_("The number to send the SMS to is not a valid phone number.")) from None
	text = text or ""
	if reason := too_long(text, most):
		raise DeliveryRefused(reason)
	chunks = segments(text) if config.split_mode == PER_PART else [text]
	ids = list(sent[: len(chunks)]) if len(chunks) > 1 else []
	for position in range(len(ids) + 1, len(chunks) + 1):
		try:
			ids.append(request_send(gateway, config, number, chunks[position - 1], position, len(chunks)))
		except DeliveryDeferred as error:
			error.sent_ids = list(ids)
			raise
	return ids


def request_send(gateway, config, number: str, text: str, position: int, count: int) -> str:
	headers = {"Accept": "application/json, text/plain, */*"}
	params = {}
	for row in gateway.get("parameters") or []:
		if not row.parameter:
			continue
		if row.header:
			headers[row.parameter] = row.value or ""
		else:
			params[row.parameter] = row.value or ""
	params[gateway.message_parameter] = text
	params[gateway.receiver_parameter] = receiver_of(number, config.number_format)
	auth = None
	credential = secret("auth_secret") if config.auth_type != "None" else None
	if credential and config.auth_type == "Header":
		headers[config.auth_name or "Authorization"] = credential
	elif credential and config.auth_type == "Parameter":
		params[config.auth_name or "api_key"] = credential
	elif credential and config.auth_type == "Basic":
		auth = (config.auth_name, credential)
	use_json = any(k.lower() == "content-type" and "json" in (v or "").lower() for k, v in headers.items())
	kwargs = {"headers": headers, "auth": auth, "timeout": TIMEOUT}
	if use_json:
		kwargs["json"] = params
	elif gateway.use_post:
		kwargs["data"] = params
	else:
		kwargs["params"] = params
	logger = frappe.logger("unioncase.sms")
	try:
		response = requests.request(
			"POST" if gateway.use_post or use_json else "GET", gateway.sms_gateway_url, **kwargs
		)
	except requests.RequestException as error:
		logger.warning("send attempt (part %s of %s): %s", position, count, type(error).__name__)
		raise DeliveryDeferred(f"The SMS gateway could not be reached: {type(error).__name__}") from None
	logger.info("send attempt (part %s of %s): HTTP %s", position, count, response.status_code)
	if response.status_code == 429 or response.status_code >= 500:
		raise DeliveryDeferred(f"The SMS gateway answered {response.status_code}; retried later")
	if response.status_code >= 400:
		raise DeliveryRefused(
			_("The SMS gateway refused the message: {0} (HTTP {1})").format(
				gateway_error(response, number), response.status_code
			)
		)
	return message_id_of(response, config.message_id_path)


def gateway_error(response, number: str) -> str:
	"""What the gateway said, without the number (gateways echo it; officials read this error)."""
	text = response.text[:300]
	digits = number.lstrip("+")
	for form in (number, digits, "0" + digits[2:], digits[2:]):
		if len(form) >= 6:
			text = text.replace(form, "***")
	return mask_contacts_in_text(text) or "?"


def message_id_of(response, path: str) -> str:
	try:
		value = response.json()
	except ValueError:
		return ""
	for step in path.split(".") if path else []:
		if isinstance(value, list) and step.isdecimal() and int(step) < len(value):
			value = value[int(step)]
		elif isinstance(value, dict) and step in value:
			value = value[step]
		else:
			return ""
	return str(value)[:MAX_ID] if isinstance(value, str | int) else ""
