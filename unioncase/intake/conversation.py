"""The case's conversation with the worker: one timeline of what they sent and what the union answered.

Officials reply from the case (`reply`); a reply is a Case Message queued for its channel and
delivered by a background job with retries (`deliver`). Every reply is readable on the tracking page;
by email it is also sent to the address behind the case's contact handle, which no official sees.
Frappe's Communication is not used for these messages: it keeps the worker's address in its sender and
recipients, readable by everyone who reads the case, which a pseudonymous worker must not have.
"""

from contextlib import nullcontext

import frappe
from frappe import _
from frappe.utils import add_to_date, escape_html, get_url, now_datetime

from unioncase.intake import handle, language

CASE_MESSAGE = "Case Message"
GRIEVANCE = "Grievance"
FROM_WORKER, TO_WORKER = "From Worker", "To Worker"
TRACKING_PAGE, EMAIL, WHATSAPP, SMS = "Tracking Page", "Email", "WhatsApp", "SMS"
QUEUED, SENT, FAILED, READ, RECEIVED = "Queued", "Sent", "Failed", "Read", "Received"
MAX_REPLY = 5000
BACKOFF_MINUTES = (1, 5, 15, 60, 240)
# The channel a reply goes back on, by the channel the worker last wrote on.
REPLY_CHANNEL = {"Web": TRACKING_PAGE, "Email": EMAIL, "WhatsApp": WHATSAPP, "SMS": SMS}
# What sends a queued message on each channel (a function of the Case Message).
SENDERS = {
	EMAIL: "unioncase.intake.conversation.send_email",
	WHATSAPP: "unioncase.intake.whatsapp.send",
	SMS: "unioncase.intake.sms.send",
}
# Channels that answer a worker on the phone number they wrote from (the handle's Phone address).
PHONE_CHANNELS = (WHATSAPP, SMS)
TRACKING_PATH = "/kasus"


class DeliveryRefused(Exception):
	"""A send the provider (or a channel's rule) refuses for good: the delivery job does not retry it."""

	permanent = True


class DeliveryDeferred(Exception):
	"""A send that failed for now (429, 5xx, network): retried with the delivery job's backoff."""

	sent_ids = ()  # a message sent in parts: the ids of the parts the provider took before it failed


def record_inbound(grievance: str, channel: str, content: str, inbound_message: str | None) -> str:
	doc = frappe.get_doc(
		{
			"doctype": CASE_MESSAGE,
			"grievance": grievance,
			"direction": FROM_WORKER,
			"channel": channel,
			"content": content,
			"inbound_message": inbound_message,
			"delivery_status": RECEIVED,
			"sent_on": now_datetime(),
		}
	).insert(ignore_permissions=True)
	return doc.name


def reply_channels(grievance: str) -> list[str]:
	"""Where the worker can be answered: the tracking page, and their email if they gave one."""
	contact = handle.for_case(grievance)
	if not contact:
		return []
	channels = [TRACKING_PAGE]
	if contact.address_kind == handle.EMAIL and not contact.unreachable:
		channels.append(EMAIL)
	for channel in PHONE_CHANNELS:
		if (
			contact.address_kind == handle.PHONE
			and not contact.unreachable
			and frappe.db.exists(
				CASE_MESSAGE, {"grievance": grievance, "direction": FROM_WORKER, "channel": channel}
			)
		):
			channels.append(channel)
	return channels


def default_channel(grievance: str, channels: list[str]) -> str | None:
	last = frappe.db.get_value(
		CASE_MESSAGE, {"grievance": grievance, "direction": FROM_WORKER}, "channel", order_by="creation desc"
	)
	preferred = REPLY_CHANNEL.get(last)
	return preferred if preferred in channels else (channels[0] if channels else None)


@frappe.whitelist(methods=["GET"])
def get_conversation(case: str) -> dict:
	"""The case's timeline for the Reply dialog: messages both ways, and where a reply can go."""
	frappe.has_permission(GRIEVANCE, "read", case, throw=True)
	# the worker's own words: for the roles that read the conversation (not researchers)
	frappe.has_permission(CASE_MESSAGE, "read", throw=True)
	channels = reply_channels(case)
	return {
		"messages": frappe.get_all(
			CASE_MESSAGE,
			filters={"grievance": case},
			fields=[
				"name",
				"direction",
				"channel",
				"content",
				"delivery_status",
				"sent_by",
				"sent_on",
				"read_on",
				"error",
			],
			order_by="creation asc",
		),
		"channels": channels,
		"default_channel": default_channel(case, channels),
	}


@frappe.whitelist(methods=["POST"])
def reply(case: str, message: str, channel: str | None = None) -> dict:
	"""An official's answer to the worker, queued on `channel` (by default where the worker last wrote)."""
	frappe.has_permission(GRIEVANCE, "write", case, throw=True)
	text = (message or "").strip() if isinstance(message, str) else ""
	if not text:
		frappe.throw(_("Write the message to the worker."), frappe.MandatoryError, title=_("Message missing"))
	if len(text) > MAX_REPLY:
		frappe.throw(
			_("The message is longer than {0} characters.").format(MAX_REPLY), title=_("Message too long")
		)
	channels = reply_channels(case)
	if not channels:
		frappe.throw(
			_("This worker did not write through a UnionCase channel, so they cannot be answered here."),
			title=_("No way to reach the worker"),
		)
	channel = channel or default_channel(case, channels)
	if channel not in channels:
		frappe.throw(
			_("The worker cannot be reached by {0}; choose one of: {1}.").format(
				_(channel), ", ".join(_(option) for option in channels)
			),
			title=_("Channel not available"),
		)
	if channel == WHATSAPP:
		frappe.get_attr("unioncase.intake.whatsapp.check_reply")(case)
	if channel == SMS:
		frappe.get_attr("unioncase.intake.sms.check_reply")(text)
	doc = frappe.get_doc(
		{
			"doctype": CASE_MESSAGE,
			"grievance": case,
			"direction": TO_WORKER,
			"channel": channel,
			"content": text,
			"contact_handle": handle.for_case(case).name,
			"delivery_status": SENT if channel == TRACKING_PAGE else QUEUED,
			"sent_by": frappe.session.user,
			"sent_on": now_datetime() if channel == TRACKING_PAGE else None,
		}
	).insert(ignore_permissions=True)
	if channel != TRACKING_PAGE:
		enqueue_delivery(doc.name)
	return {"name": doc.name, "delivery_status": doc.delivery_status, "channel": channel}


def queue_acknowledgement(grievance: str, channel: str, contact: str, inbound_message: str):
	"""Queue a new case's acknowledgement to the worker; its text (with the code) is made only when the
	channel sends it, so the code is never stored."""
	doc = frappe.get_doc(
		{
			"doctype": CASE_MESSAGE,
			"grievance": grievance,
			"direction": TO_WORKER,
			"channel": channel,
			"content": _("Acknowledgement with the tracking code (the code is shown only to the worker)."),
			"contact_handle": contact,
			"inbound_message": inbound_message,
			"delivery_status": QUEUED,
		}
	).insert(ignore_permissions=True)
	enqueue_delivery(doc.name)


def delivery_job_id(case_message: str) -> str:
	return f"case-message-delivery::{case_message}"


def enqueue_delivery(case_message: str):
	frappe.enqueue(
		"unioncase.intake.conversation.deliver",
		queue="short",
		case_message=case_message,
		job_id=delivery_job_id(case_message),
		deduplicate=True,
		enqueue_after_commit=True,
	)


def deliver(case_message: str):
	"""The delivery job: hand a queued reply to its channel; a failure is retried with backoff."""
	frappe.set_user("Administrator")
	doc = frappe.get_doc(CASE_MESSAGE, case_message, for_update=True)
	if doc.delivery_status not in (QUEUED, FAILED):
		return doc.delivery_status
	try:
		if doc.channel not in SENDERS:
			raise NotImplementedError(f"no delivery for channel {doc.channel}")
		frappe.get_attr(SENDERS[doc.channel])(doc)
	except Exception as error:
		frappe.db.rollback()
		record_delivery_failure(case_message, error)
		return FAILED
	doc.db_set({"delivery_status": SENT, "sent_on": now_datetime(), "error": None, "next_attempt_on": None})
	frappe.db.commit()
	return SENT


def send_email(doc):
	"""Through Frappe's email queue, from the mailbox the worker last wrote to (so answers come back)."""
	from unioncase.intake import email

	address = handle.resolve(doc.contact_handle)
	if not address:
		raise ValueError("the contact handle has no address")
	link = get_url(TRACKING_PATH)
	spoken = language.of_case(doc.grievance)
	with language.speaking(spoken) if spoken else nullcontext():
		# in the language the worker reported in (the web page's switch), else the site's
		subject = _("A message from your union about your report")
		footer = _("Read your case and answer on {0} with your tracking code.").format(
			f'<a href="{link}?lang={spoken}">{link}</a>' if spoken else f'<a href="{link}">{link}</a>'
		)
	frappe.sendmail(
		recipients=[address],
		sender=email.sender_of(email.reply_account(doc.grievance)),
		message_id=email.new_message_id(),
		add_unsubscribe_link=0,
		subject=subject,
		message="<p>{}</p><p>{}</p>".format(escape_html(doc.content).replace("\n", "<br>"), footer),
		reference_doctype=CASE_MESSAGE,
		reference_name=doc.name,
	)


def record_delivery_failure(case_message: str, error: Exception):
	attempts = (frappe.db.get_value(CASE_MESSAGE, case_message, "attempts") or 0) + 1
	retry_in = BACKOFF_MINUTES[attempts - 1] if attempts <= len(BACKOFF_MINUTES) else None
	# a refusal for good (a 4xx from the provider) is not retried, and says why in words
	permanent = getattr(error, "permanent", False)
	if permanent:
		retry_in = None
	frappe.db.set_value(
		CASE_MESSAGE,
		case_message,
		{
			"delivery_status": FAILED,
			"attempts": attempts,
			# the error names no address: the handle's address never reaches an exception message
			"error": (str(error) if permanent else f"{type(error).__name__}: {error}")[:1000],
			"next_attempt_on": add_to_date(now_datetime(), minutes=retry_in) if retry_in else None,
		},
	)
	frappe.db.commit()


def retry_due_deliveries():
	"""Scheduler: queue replies whose delivery failed and whose backoff has passed."""
	due = frappe.get_all(
		CASE_MESSAGE,
		# "is set" first: Frappe compares an empty datetime as 0001-01-01, which would retry a refusal
		filters=[
			["delivery_status", "=", FAILED],
			["next_attempt_on", "is", "set"],
			["next_attempt_on", "<=", now_datetime()],
		],
		pluck="name",
		limit=500,
	)
	for case_message in due:
		enqueue_delivery(case_message)
	frappe.db.commit()
	return due


def messages_for_worker(grievance: str) -> list[dict]:
	"""What the tracking page shows: the union's messages to the worker, marked read once shown."""
	messages = frappe.get_all(
		CASE_MESSAGE,
		filters={"grievance": grievance, "direction": TO_WORKER},
		fields=["name", "content", "sent_on", "creation", "read_on"],
		order_by="creation asc",
	)
	unread = [message.name for message in messages if not message.read_on]
	if unread:
		frappe.db.set_value(
			CASE_MESSAGE,
			{"name": ["in", unread]},
			{"read_on": now_datetime(), "delivery_status": READ},
			update_modified=False,
		)
	return messages
