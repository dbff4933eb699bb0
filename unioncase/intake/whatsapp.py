"""WhatsApp Business Cloud API: the webhook workers' messages arrive on, and replies sent back.

The webhook (`webhook`, guest-allowed) answers the provider's GET handshake and, for every POST,
checks `X-Hub-Signature-256` (HMAC-SHA256 of the raw body bytes with the app secret, in constant time)
before anything reads the body. A refused body stores nothing and is only counted (no payload in the
log). An accepted body is split into its messages and statuses, each stored in the inbox once (by
its `wamid`), and processed by the inbox's job: a message opens a case or joins the sender's open one,
a status updates the delivery status of the union's message it reports on.

The worker's number is kept only in the case's Contact Handle (encrypted, read by no official role),
with a keyed hash to find their open case; it is never on the case.
Replies go out through the Cloud API's messages endpoint (`send`, called by the conversation's
delivery job): 429 and 5xx are retried with the job's backoff, 4xx never; outside the 24-hour
customer-service window only the approved template named in WhatsApp Settings may be sent.

A first message starts the guided conversation (`guided.py`, when *Guided First Contact* is on):
its questions go out as interactive reply buttons or a list. A reply quoting a message the union sent
(`context.id`) joins that message's case; a `system` message saying the worker's number changed
moves their contact handles to the new number. The business number a message was sent to
(`metadata.phone_number_id`) routes it to its union (WhatsApp Settings' routing table), and answers
go out from that number.
"""

import hashlib
import hmac
import json
from contextlib import contextmanager
from datetime import timedelta
from functools import partial

import frappe
import requests
import requests.adapters
from frappe import _
from frappe.utils import get_datetime, get_url, now_datetime
from frappe.utils.password import decrypt, get_encryption_key
from werkzeug.wrappers import Response

from unioncase.intake import conversation, files, guided, handle, inbox, tracking
from unioncase.intake.conversation import DeliveryDeferred, DeliveryRefused
from unioncase.intake.inbox import Outcome
from unioncase.intake.phone import normalize_phone

SETTINGS = "WhatsApp Settings"
CHANNEL = "WhatsApp"
MAX_BODY = 3 * 1024 * 1024
WINDOW = timedelta(hours=24)
TIMEOUT = (5, 30)
MAX_MEDIA = 16 * 1024 * 1024
# Message types that make or join a case; any other type is kept as Ignored.
HANDLED = ("text", "image", "document", "audio", "interactive", "button", "location", "reaction", "system")
MEDIA = ("image", "document", "audio")
CLOSED_STATES = ("Resolved", "Closed", "Rejected")
# A delivery status never goes back: a late "sent" after "read" changes nothing.
STATUS_RANK = {"Queued": 0, "Failed": 0, "Sent": 1, "Delivered": 2, "Read": 3}
STATUSES = {"sent": "Sent", "delivered": "Delivered", "read": "Read", "failed": "Failed"}
# Password fields as stored (encrypted) -> decrypted, in this process: the App Secret is read on every POST.
DECRYPTED: dict[str, str] = {}
WORKER_LANGUAGE = "id"


def settings() -> frappe._dict:
	# one plain query: read on every webhook POST
	values = dict(frappe.db.sql("select field, value from `tabSingles` where doctype = %s", SETTINGS))
	return frappe._dict(
		enabled=bool(int(values.get("enabled") or 0)),
		phone_number_id=values.get("phone_number_id"),
		graph_url=(values.get("graph_url") or "https://graph.facebook.com/v20.0").rstrip("/"),
		default_union=values.get("default_union"),
		reply_template=values.get("reply_template"),
		template_language=values.get("template_language") or "id",
		notice_template=values.get("notice_template"),
		# on unless turned off (a site that never saved the new field has it on)
		guided=bool(int(values.get("guided_intake", 1) or 0)),
	)


def routed_union(phone_number_id) -> str | None:
	"""The union a business number's messages go to (the routing table), else the Receiving Union."""
	if phone_number_id:
		union = frappe.db.get_value(
			"WhatsApp Number Route",
			{"parent": SETTINGS, "parenttype": SETTINGS, "phone_number_id": str(phone_number_id)},
			"union",
		)
		if union:
			return union
	return settings().default_union or frappe.db.get_single_value("Intake Settings", "default_union")


def secret(field: str) -> str | None:
	"""A Password field of WhatsApp Settings, decrypted (each stored value decrypted once per process)."""
	row = frappe.db.sql(
		"select `password` from `__Auth` where doctype = %s and name = %s and fieldname = %s and encrypted = 1",
		(SETTINGS, SETTINGS, field),
	)
	if not row or not row[0][0]:
		return None
	if row[0][0] not in DECRYPTED:
		if len(DECRYPTED) > 16:
			DECRYPTED.clear()
		DECRYPTED[row[0][0]] = decrypt(row[0][0])
	return DECRYPTED[row[0][0]]


# --- the webhook --------------------------------------------------------------------------------


@frappe.whitelist(allow_guest=True, methods=["GET", "POST"])
def webhook() -> Response:
	"""The Cloud API's callback URL: GET for the subscription handshake, POST for notifications."""
	if frappe.request.method == "GET":
		return handshake()
	return notification()


def answer(status: int, message: str | None = None) -> Response:
	body = json.dumps({"message": message} if message else {"ok": True}, ensure_ascii=False)
	return Response(body, status=status, mimetype="application/json")


def handshake() -> Response:
	args = frappe.request.args
	expected = secret("verify_token")
	given = args.get("hub.verify_token") or ""
	if (
		args.get("hub.mode") == "subscribe"
		and expected
		and hmac.compare_digest(given.encode(), expected.encode())
	):
		return Response(args.get("hub.challenge") or "", status=200, mimetype="text/plain")
	count_rejection("handshake")
	return answer(403, _("The verify token does not match WhatsApp Settings."))


def signature_valid(raw: bytes, header: str | None, app_secret: str) -> bool:
	if not header or not header.startswith("sha256="):
		return False
	expected = hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest().encode()
	return hmac.compare_digest(expected, header[len("sha256=") :].strip().lower().encode(errors="replace"))


def count_rejection(reason: str):
	inbox.count_refused(CHANNEL, reason)


def rejected_today() -> int:
	return inbox.refused_today(CHANNEL)


def notification() -> Response:
	app_secret = secret("app_secret")
	if not (app_secret and settings().enabled):
		count_rejection("not configured")
		return answer(
			503,
			_("WhatsApp is not set up on this site: enable it and set the App Secret in WhatsApp Settings."),
		)
	length = frappe.request.content_length
	if length and length > MAX_BODY:
		count_rejection("too large")
		return answer(413, _("The body is larger than {0} MB.").format(MAX_BODY // (1024 * 1024)))
	raw = frappe.request.get_data(cache=True)
	header = frappe.request.headers.get("X-Hub-Signature-256")
	if not header:
		count_rejection("unsigned")
		return answer(401, _("The X-Hub-Signature-256 header is missing."))
	if not signature_valid(raw, header, app_secret):
		count_rejection("bad signature")
		return answer(403, _("The X-Hub-Signature-256 signature does not match the body."))
	try:
		body = json.loads(raw)
	except (ValueError, RecursionError):
		# signed, so from the provider, but not whole (truncated) or not JSON: nothing in it can be read or
		# kept usefully; a 4xx makes the provider deliver it again, whole
		count_rejection("signed, not JSON")
		return answer(400, _("The body is not valid JSON; nothing was stored. Send it again, whole."))
	store(raw, body)
	return answer(200)


def store(raw: bytes, body) -> list[str]:
	"""Store a signed JSON body in the inbox: each message and status once, anything else as received."""
	items = (
		list(split(body))
		if isinstance(body, dict) and body.get("object") == "whatsapp_business_account"
		else []
	)
	if not items:
		key = "body:" + hashlib.sha256(raw).hexdigest()
		text = raw.decode("utf-8", errors="replace")
		name, _created = inbox.receive(
			CHANNEL, key, {"body": text}, summary=_("WhatsApp notification with no message, kept as received")
		)
		return [name]
	names = []
	for key, kind, payload, summary in items:
		name, _created = inbox.receive(CHANNEL, key, payload, kind=kind, summary=summary)
		names.append(name)
	return names


def split(body: dict):
	"""(delivery key, inbox kind, payload, summary) for each message and status in a notification."""
	for entry in listed(body.get("entry")):
		if not isinstance(entry, dict):
			continue
		for change in listed(entry.get("changes")):
			value = change.get("value") if isinstance(change, dict) else None
			if not isinstance(value, dict):
				continue
			contacts = {
				contact["wa_id"]: contact
				for contact in listed(value.get("contacts"))
				if isinstance(contact, dict) and isinstance(contact.get("wa_id"), str)
			}
			metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
			for message in listed(value.get("messages")):
				if not isinstance(message, dict) or not isinstance(message.get("id"), str):
					continue
				yield (
					message["id"],
					"New Report",
					{
						"message": message,
						"contact": contacts.get(message.get("from"))
						if isinstance(message.get("from"), str)
						else None,
						"metadata": metadata,
						"field": change.get("field"),
					},
					_("WhatsApp message ({0})").format(str(message.get("type"))[:40]),
				)
			for status in listed(value.get("statuses")):
				if not isinstance(status, dict) or not isinstance(status.get("id"), str):
					continue
				yield (
					f"status:{status['id']}:{status.get('status')}",
					"Delivery Status",
					{"status": status},
					_("WhatsApp delivery status ({0})").format(str(status.get("status"))[:40]),
				)


def listed(value) -> list:
	"""A list the body should hold there; anything else (a number, text, an object) holds nothing."""
	return value if isinstance(value, list) else []


# --- processing (the inbox's job) ---------------------------------------------------------------


def address_hash(number: str) -> str:
	"""A keyed hash of a number: finds the sender's case without storing the number in the clear."""
	return handle.address_hash(number)


def sender_number(message: dict, raw: str | None = None) -> str:
	raw = str(raw if raw is not None else message.get("from") or "")
	digits = "".join(character for character in raw if character.isdecimal())
	return normalize_phone(f"+{digits}", "WhatsApp number")


def open_case_of(number_hash: str) -> tuple[str, str] | None:
	"""(case, handle) of the sender's newest open case."""
	return guided.open_case_of(number_hash)


def reply_id_of(message: dict) -> str | None:
	"""The id of the button or list row the worker tapped (or a template button's payload)."""
	kind = message.get("type")
	part = message.get(kind) if isinstance(message.get(kind), dict) else {}
	if kind == "interactive":
		reply = part.get("button_reply") or part.get("list_reply")
		return str(reply.get("id")) if isinstance(reply, dict) and reply.get("id") else None
	if kind == "button":
		return str(part.get("payload")) if part.get("payload") else None
	return None


def context_case(message: dict, number_hash: str) -> str | None:
	"""The case of the union's message the worker replied to (`context.id`), if it was sent to them."""
	context = message.get("context")
	quoted = context.get("id") if isinstance(context, dict) else None
	if not isinstance(quoted, str) or not quoted:
		return None
	sent = frappe.db.get_value(
		conversation.CASE_MESSAGE,
		{"provider_message_id": quoted, "direction": conversation.TO_WORKER},
		["grievance", "contact_handle"],
		as_dict=True,
	)
	if not (sent and sent.grievance and sent.contact_handle):
		return None
	# only the worker the message went to joins its case by quoting it
	if frappe.db.get_value(handle.HANDLE, sent.contact_handle, "address_hash") != number_hash:
		return None
	return sent.grievance


def number_changed(message: dict, number_hash: str) -> Outcome:
	"""A `system` message: the worker moved to a new number; their handles and conversation follow."""
	part = message.get("system") if isinstance(message.get("system"), dict) else {}
	new_raw = part.get("wa_id") or part.get("new_wa_id")
	if part.get("type") not in (None, "user_changed_number", "customer_changed_number") or not new_raw:
		return Outcome(inbox.IGNORED, _("A WhatsApp system message that is not a number change."))
	try:
		new_number = sender_number(message, str(new_raw))
	except frappe.ValidationError:
		frappe.clear_messages()
		return Outcome(inbox.IGNORED, _("The new WhatsApp number is not a valid phone number."))
	moved = guided.move_number(CHANNEL, number_hash, new_number, address_hash(new_number))
	if not moved:
		return Outcome(inbox.IGNORED, _("A number change from a number with no case."))
	cases = [name for name in moved if frappe.db.exists("Grievance", name)]
	for case in cases:
		frappe.get_doc("Grievance", case).add_comment(
			"Info", _("The worker's WhatsApp number changed; the conversation continues on the new one.")
		)
	return Outcome(inbox.PROCESSED, grievance=cases[0] if cases else None)


def text_of(message: dict) -> str:
	kind = message.get("type")
	part = message.get(kind) if isinstance(message.get(kind), dict) else {}
	if kind == "text":
		return str(part.get("body") or "")
	if kind in MEDIA:
		caption = part.get("caption") or part.get("filename") or ""
		label = {"image": _("Photo"), "document": _("Document"), "audio": _("Voice message")}[kind]
		return f"[{label}] {caption}".strip()
	if kind == "location":
		return (
			_("[Location] {0}, {1} {2}")
			.format(
				part.get("latitude"), part.get("longitude"), part.get("name") or part.get("address") or ""
			)
			.strip()
		)
	if kind == "interactive":
		reply = part.get("button_reply") or part.get("list_reply")
		reply = reply if isinstance(reply, dict) else {}
		return str(reply.get("title") or reply.get("id") or "")
	if kind == "button":
		return str(part.get("text") or part.get("payload") or "")
	if kind == "reaction":
		return _("[Reaction] {0}").format(part.get("emoji") or _("removed"))
	return ""


def process(inbound, payload: dict) -> Outcome:
	"""A WhatsApp message: open a case, or add it to the sender's open case."""
	message = payload.get("message")
	if not isinstance(message, dict):
		return Outcome(inbox.IGNORED, _("A WhatsApp notification with no message; kept as received."))
	kind = message.get("type")
	if kind not in HANDLED:
		return Outcome(
			inbox.IGNORED, _("WhatsApp messages of type {0} are not handled; kept as received.").format(kind)
		)
	try:
		number = sender_number(message)
	except frappe.ValidationError:
		frappe.clear_messages()
		return Outcome(inbox.IGNORED, _("The sender's WhatsApp number is not a valid phone number."))
	number_hash = address_hash(number)
	if kind == "system":
		return number_changed(message, number_hash)
	text = text_of(message)
	quoted = context_case(message, number_hash)
	if quoted and kind != "reaction":
		# an answer to a message of the union's: that message's case, whatever else is open
		guided.join(quoted, CHANNEL, text, inbound.name)
		if kind in MEDIA:
			fetch_media(message, quoted)
		return Outcome(inbox.PROCESSED, grievance=quoted)
	found = open_case_of(number_hash)
	if kind == "reaction":
		# a reaction belongs to a conversation; it never opens a case
		if not found:
			return Outcome(inbox.IGNORED, _("A WhatsApp reaction from a number with no open case."))
		conversation.record_inbound(found[0], CHANNEL, text, inbound.name)
		return Outcome(inbox.PROCESSED, grievance=found[0])
	metadata = payload.get("metadata") if isinstance(payload.get("metadata"), dict) else {}
	if settings().guided:
		contact = payload.get("contact") if isinstance(payload.get("contact"), dict) else {}
		profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
		sender = guided.Sender(
			number=number,
			address_hash=number_hash,
			union=routed_union(metadata.get("phone_number_id")),
			channel_number=str(metadata.get("phone_number_id") or "") or None,
			name=profile.get("name"),
		)
		result = guided.handle(CHANNEL, sender, text, reply_id_of(message), inbound, has_media=kind in MEDIA)
		if result.opened:
			attach_media_of(result.inbound_messages, result.grievance)
		elif result.grievance and kind in MEDIA:
			fetch_media(message, result.grievance)
		return Outcome(inbox.PROCESSED, grievance=result.grievance)
	if found:
		grievance = found[0]
		conversation.record_inbound(grievance, CHANNEL, text, inbound.name)
		frappe.get_doc("Grievance", grievance).add_comment("Info", _("The worker wrote again on WhatsApp."))
	else:
		grievance = open_case(inbound, message, number, number_hash, text, metadata.get("phone_number_id"))
	if kind in MEDIA:
		fetch_media(message, grievance)
	return Outcome(inbox.PROCESSED, grievance=grievance)


def attach_media_of(inbound_messages: list[str], grievance: str):
	"""The photos, documents and voice notes sent during the guided conversation, now on its case."""
	for name in inbound_messages:
		try:
			message = inbox.payload_of(frappe.get_doc(inbox.INBOUND, name)).get("message") or {}
		except (ValueError, TypeError):
			continue
		if isinstance(message, dict) and message.get("type") in MEDIA:
			fetch_media(message, grievance)


def open_case(inbound, message: dict, number: str, number_hash: str, text: str, phone_number_id=None) -> str:
	union = routed_union(phone_number_id)
	if not union:
		raise frappe.ValidationError("No intake union: set the Receiving Union in WhatsApp Settings")
	case = inbox.open_anonymous_case(
		union, CHANNEL, subject_of(text) or _("Report by WhatsApp"), text, inbound.received_on
	)
	code = tracking_code(message["id"])
	contact = handle.create(case.name, tracking.code_hash(code), number, handle.PHONE)
	frappe.db.set_value(
		handle.HANDLE,
		contact,
		{"address_hash": number_hash, "channel_number": str(phone_number_id or "") or None},
	)
	frappe.db.set_value(
		"Grievance",
		case.name,
		"reporter_pseudonym",
		handle.pseudonym(contact, CHANNEL),
		update_modified=False,
	)
	conversation.record_inbound(case.name, CHANNEL, text, inbound.name)
	conversation.queue_acknowledgement(case.name, CHANNEL, contact, inbound.name)
	return case.name


def subject_of(text: str) -> str:
	line = " ".join(text.split())
	return line if len(line) <= 80 else line[:79].rstrip() + "…"


def tracking_code(wamid: str) -> str:
	"""The case's tracking code, derived from the first message's id with the site's key, never stored."""
	return guided.code_for_key(f"whatsapp:{wamid}")


def acknowledgement_text(doc) -> str:
	"""In the worker's language (Bahasa Indonesia unless they chose English), with the code."""
	return guided.acknowledgement_text(doc)


@contextmanager
def worker_language():
	"""Messages to the worker in Bahasa Indonesia, whatever the site's or the job's language."""
	previous = getattr(frappe.local, "lang", None)
	frappe.local.lang = WORKER_LANGUAGE
	try:
		yield
	finally:
		frappe.local.lang = previous


def process_status(inbound, payload: dict) -> Outcome:
	"""A `statuses` callback: the delivery status of a message the union sent (never back in time)."""
	status = payload.get("status") or {}
	new = STATUSES.get(status.get("status"))
	message = frappe.db.get_value(
		conversation.CASE_MESSAGE,
		{"provider_message_id": status.get("id")},
		["name", "grievance", "delivery_status"],
		as_dict=True,
	)
	if new and not message and broadcast_status(status, new):
		return Outcome(inbox.PROCESSED)
	if not new or not message:
		return Outcome(inbox.IGNORED, _("No message of the union has this WhatsApp id or status."))
	values = {}
	if new == conversation.FAILED:
		values = {"delivery_status": new, "next_attempt_on": None, "error": status_error(status)}
	elif STATUS_RANK[new] > STATUS_RANK.get(message.delivery_status, 0):
		values = {"delivery_status": new}
		if new == conversation.READ:
			values["read_on"] = now_datetime()
	if values:
		frappe.db.set_value(conversation.CASE_MESSAGE, message.name, values)
	return Outcome(inbox.PROCESSED, grievance=message.grievance)


def status_error(status: dict) -> str:
	"""The provider's reason in a `failed` status, in words."""
	errors = status.get("errors") or [{}]
	error = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
	return _("WhatsApp could not deliver the message: {0} (code {1})").format(
		error.get("message") or error.get("title") or "?", error.get("code") or "?"
	)[:1000]


def broadcast_status(status: dict, new: str) -> bool:
	"""A status of a broadcast's message: its recipient row (unioncase/intake/broadcast.py) follows it."""
	return frappe.get_attr("unioncase.intake.broadcast.record_status")(status, new)


# --- media --------------------------------------------------------------------------------------


def fetch_media(message: dict, grievance: str):
	"""Download a photo, document or voice message and keep it, checked by content, on the case."""
	kind = message["type"]
	media_id = (message.get(kind) or {}).get("id")
	if not media_id:
		return
	token, config = secret("access_token"), settings()
	headers = {"Authorization": f"Bearer {token}"}
	try:
		meta = requests.get(f"{config.graph_url}/{media_id}", headers=headers, timeout=TIMEOUT)
		meta.raise_for_status()
		url = meta.json()["url"]
		download = requests.get(url, headers=headers, timeout=TIMEOUT)
		download.raise_for_status()
		content = download.content
	except (requests.RequestException, ValueError, KeyError, TypeError) as error:
		# the case stays; the note says what is missing and why (no address, no token in it)
		frappe.get_doc("Grievance", grievance).add_comment(
			"Info",
			_(
				"A file sent on WhatsApp could not be downloaded ({0}); ask the worker to send it again."
			).format(type(error).__name__),
		)
		return
	reason = media_refused(content, kind)
	if reason:
		frappe.get_doc("Grievance", grievance).add_comment(
			"Info", _("A file sent on WhatsApp was not kept: {0}").format(reason)
		)
		return
	label = f"whatsapp-{kind}-{hashlib.sha256(message['id'].encode()).hexdigest()[:10]}"
	if not frappe.db.exists("File", {"attached_to_name": grievance, "file_name": ["like", f"{label}.%"]}):
		save_media(content, grievance, label)


AUDIO_SIGNATURES = ((b"OggS", "ogg"), (b"ID3", "mp3"), (b"\xff\xfb", "mp3"), (b"#!AMR", "amr"))


def audio_extension(content: bytes) -> str | None:
	for signature, extension in AUDIO_SIGNATURES:
		if content.startswith(signature):
			return extension
	if content[4:8] == b"ftyp" and content[8:11] == b"M4A":
		return "m4a"
	return None


def media_refused(content: bytes, kind: str) -> str | None:
	if kind == "audio":
		if not content:
			return _("The file is empty.")
		if len(content) > MAX_MEDIA:
			return _("The file is larger than {0} MB.").format(MAX_MEDIA // (1024 * 1024))
		return None if audio_extension(content) else _("The voice message is not in a known audio format.")
	return files.check(content, MAX_MEDIA)


def save_media(content: bytes, grievance: str, label: str):
	if files.detect(content):
		files.save(content, "Grievance", grievance, label)
		return
	frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{label}.{audio_extension(content)}",
			"content": content,
			"is_private": 1,
			"attached_to_doctype": "Grievance",
			"attached_to_name": grievance,
		}
	).insert(ignore_permissions=True)


# --- outbound -----------------------------------------------------------------------------------


def last_inbound_on(grievance: str | None, intake_conversation: str | None = None):
	"""When the worker last wrote on WhatsApp: on the case, or (no case yet) in the guided conversation."""
	if not grievance:
		# the guided conversation keeps when the worker last wrote (its messages may be gone: declined)
		if not intake_conversation:
			return None
		return frappe.db.get_value(guided.CONVERSATION, intake_conversation, "last_inbound_on")
	where = {"grievance": grievance}
	return frappe.db.get_value(
		conversation.CASE_MESSAGE,
		{**where, "direction": conversation.FROM_WORKER, "channel": CHANNEL},
		"sent_on",
		order_by="creation desc",
	)


def within_window(grievance: str | None, intake_conversation: str | None = None) -> bool:
	last = last_inbound_on(grievance, intake_conversation)
	return bool(last) and now_datetime() - get_datetime(last) < WINDOW


def window_refusal() -> str:
	return _(
		"The worker last wrote on WhatsApp more than 24 hours ago: WhatsApp then allows only an approved "
		"template message, and none is set in WhatsApp Settings. Answer on the tracking page instead."
	)


def check_reply(grievance: str):
	"""Called before an official's WhatsApp reply is queued: refuse one that could never be sent."""
	if not within_window(grievance) and not settings().reply_template:
		frappe.throw(window_refusal(), title=_("Outside the 24-hour window"))


def send(doc):
	"""The delivery job's WhatsApp sender: one POST to {graph}/{phone_number_id}/messages."""
	config = settings()
	token = secret("access_token")
	if not (config.phone_number_id and token):
		raise DeliveryDeferred("WhatsApp Settings has no phone number ID or access token")
	number = handle.resolve(doc.contact_handle)
	if not number:
		raise DeliveryRefused(_("The worker's contact handle has no number."))
	if doc.inbound_message:
		text = acknowledgement_text(doc)
	else:
		text = doc.content
	body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": number.lstrip("+")}
	options = json.loads(doc.options) if doc.get("options") else None
	if within_window(doc.grievance, doc.get("intake_conversation")):
		if doc.get("purpose") == guided.PROMPT and options and options.get("options"):
			body.update({"type": "interactive", "interactive": interactive(text, options)})
		else:
			body.update({"type": "text", "text": {"preview_url": False, "body": text}})
	elif doc.get("purpose") == guided.STAGE_NOTICE and (config.notice_template or config.reply_template):
		template = {"name": config.notice_template or config.reply_template}
		template["language"] = {"code": config.template_language}
		if config.notice_template:
			stage = (options or {}).get("stage") or ""
			template["components"] = [{"type": "body", "parameters": [{"type": "text", "text": stage}]}]
		body.update({"type": "template", "template": template})
	elif config.reply_template and doc.get("purpose") != guided.PROMPT:
		body.update(
			{
				"type": "template",
				"template": {"name": config.reply_template, "language": {"code": config.template_language}},
			}
		)
	else:
		raise DeliveryRefused(window_refusal())
	sending_number = (
		frappe.db.get_value(handle.HANDLE, doc.contact_handle, "channel_number") or config.phone_number_id
	)
	doc.db_set("provider_message_id", post_message(config, token, body, sending_number=sending_number))


def post_message(
	config, token: str, body: dict, session: requests.Session | None = None, sending_number: str | None = None
) -> str | None:
	"""POST one message to the Cloud API; its `wamid`. 429, 5xx and network errors defer, 4xx refuse."""
	return read_answer(raw_post(config, token, body, session, sending_number))


def raw_post(
	config, token: str, body: dict, session: requests.Session | None = None, sending_number: str | None = None
):
	"""The HTTP request alone, calling nothing of Frappe (a broadcast sends from threads): the
	provider's answer, or the network error. `sending_number`: the business number answering (routing)."""
	try:
		return (session or requests).post(
			f"{config.graph_url}/{sending_number or config.phone_number_id}/messages",
			json=body,
			headers={"Authorization": f"Bearer {token}"},
			timeout=TIMEOUT,
		)
	except requests.RequestException as error:
		return error


def read_answer(response) -> str | None:
	"""The `wamid` of an accepted message; DeliveryDeferred for 429, 5xx or no answer, DeliveryRefused for 4xx."""
	if isinstance(response, Exception):
		raise DeliveryDeferred(f"WhatsApp could not be reached: {type(response).__name__}")
	if response.status_code == 429 or response.status_code >= 500:
		raise DeliveryDeferred(f"WhatsApp answered {response.status_code}; retried later")
	if response.status_code >= 400:
		raise DeliveryRefused(
			_("WhatsApp refused the message: {0} (HTTP {1})").format(
				provider_error(response), response.status_code
			)
		)
	try:
		return response.json()["messages"][0]["id"]
	except (ValueError, KeyError, IndexError, TypeError):
		return None


def send_template(
	number: str, template: str, language: str, parameters: list[str], connection: frappe._dict | None = None
) -> str | None:
	"""An approved template to a number (a broadcast: no conversation, so no 24-hour window).

	`connection` (from `open_connection()`) keeps the settings, token and HTTP connections across sends."""
	return read_answer(template_request(number, template, language, parameters, connection)())


def template_request(
	number: str, template: str, language: str, parameters: list[str], connection: frappe._dict | None = None
):
	"""The template's HTTP request, to run now or in a sending thread (`read_answer` reads what it returns)."""
	connection = connection or open_connection()
	config, token = connection.config, connection.token
	if not (config.phone_number_id and token):
		raise DeliveryDeferred("WhatsApp Settings has no phone number ID or access token")
	body = {
		"messaging_product": "whatsapp",
		"recipient_type": "individual",
		"to": number.lstrip("+"),
		"type": "template",
		"template": {"name": template, "language": {"code": language}},
	}
	if parameters:
		body["template"]["components"] = [
			{"type": "body", "parameters": [{"type": "text", "text": value} for value in parameters]}
		]
	return partial(raw_post, config, token, body, connection.session)


def open_connection(parallel: int = 1) -> frappe._dict:
	session = requests.Session()
	adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(parallel, 1))
	session.mount("https://", adapter)
	session.mount("http://", adapter)
	return frappe._dict(config=settings(), token=secret("access_token"), session=session)


def clip(text: str, limit: int) -> str:
	text = " ".join(str(text or "").split())
	return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def interactive(text: str, prompt: dict) -> dict:
	"""A guided prompt as the Cloud API's interactive message: reply buttons (3 at most) or a list."""
	body = {"text": text[:1024]}
	options = prompt["options"]
	if prompt.get("kind") == "buttons" and len(options) <= guided.MAX_BUTTONS:
		return {
			"type": "button",
			"body": body,
			"action": {
				"buttons": [
					{
						"type": "reply",
						"reply": {"id": o["id"], "title": clip(o["title"], guided.BUTTON_TITLE)},
					}
					for o in options
				]
			},
		}
	rows = []
	for option in options[: guided.MAX_ROWS]:
		row = {"id": option["id"], "title": clip(option["title"], guided.ROW_TITLE)}
		description = option.get("description") or (
			option["title"] if len(option["title"]) > guided.ROW_TITLE else ""
		)
		if description:
			row["description"] = clip(description, guided.ROW_DESCRIPTION)
		rows.append(row)
	return {
		"type": "list",
		"body": body,
		"action": {
			"button": clip(prompt.get("button") or _("Choose"), guided.BUTTON_TITLE),
			"sections": [{"title": clip(prompt.get("button") or _("Choose"), 24), "rows": rows}],
		},
	}


def provider_error(response) -> str:
	try:
		error = response.json().get("error") or {}
		return f"{error.get('message') or '?'} [{error.get('code') or '?'}]"[:300]
	except (ValueError, AttributeError):
		return "?"
