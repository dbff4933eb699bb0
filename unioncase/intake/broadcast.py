"""Broadcasts: an official's announcement to the members of their part of the tree who agreed to it.

A Member Broadcast names a union; its recipients are the active members of that union and every union
below it who have a phone number and whose latest broadcast Consent Event is a grant
(`unioncase.privacy.consent.broadcast_consent_condition`), restricted by the sender's own scope
(`unioncase.hierarchy.scope.scope_criterion`, the one criterion every list uses). Nobody outside the
sender's part of the tree can be addressed: a union outside it is refused with a 403.

`preview` counts the recipients; `send` writes one Member Broadcast Recipient row per recipient
(member link and delivery status, never the number) and queues `run`, the background job, which
sends at most the provider's rate (Broadcast Settings), records each row's outcome as it goes
(committed one by one) and shows its progress on the broadcast. 429 and 5xx are retried with a
growing wait, then the broadcast pauses and resumes later (`resume_due_broadcasts`); a 4xx fails that
recipient's row only. A job that dies is resumed on the rows still Queued: a row already Sent is never
sent again, and one the job was sending when it died is marked Failed rather than sent twice.
WhatsApp `statuses` callbacks update the rows (`record_status`, called from whatsapp.process_status).
"""

import os
import re
import socket
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

import frappe
from frappe import _
from frappe.utils import add_to_date, cint, flt, now_datetime

from unioncase.hierarchy.permissions import in_scope
from unioncase.hierarchy.scope import NOTHING, UNION, scope_criterion
from unioncase.intake import sms
from unioncase.intake.phone import normalize_phone
from unioncase.privacy.consent import broadcast_consent_condition

BROADCAST = "Member Broadcast"
RECIPIENT = "Member Broadcast Recipient"
SETTINGS = "Broadcast Settings"
MEMBER = "Union Member"
WHATSAPP, SMS = "WhatsApp", "SMS"
DRAFT, QUEUED, SENDING, PAUSED, COMPLETED, FAILED = (
	"Draft",
	"Queued",
	"Sending",
	"Paused",
	"Completed",
	"Failed",
)
SENT, DELIVERED, READ = "Sent", "Delivered", "Read"
# A delivery status never goes back: a late "sent" after "read" changes nothing.
RANK = {QUEUED: 0, SENDING: 0, FAILED: 0, SENT: 1, DELIVERED: 2, READ: 3}
# What sends one broadcast message on each channel: function(number, content) -> provider message id.
SENDERS = {
	WHATSAPP: "unioncase.intake.broadcast.send_whatsapp",
	SMS: "unioncase.intake.broadcast.send_sms",
}
# Channels whose HTTP request can run in a sending thread: function(number, content) -> request (a
# callable calling nothing of Frappe), and the function reading its answer (-> provider message id).
PARALLEL_SENDERS = {
	WHATSAPP: ("unioncase.intake.broadcast.whatsapp_request", "unioncase.intake.whatsapp.read_answer"),
}
# Requests in flight at once: enough for the provider's rate over its round trip (one per 10 a second).
MAX_PARALLEL = 16
# Fields that make the announcement: fixed once it is queued.
CONTENT_FIELDS = ("union", "channel", "template", "parameters", "message")
# Fields only `send` and the job write.
MANAGED_FIELDS = (
	"status",
	"progress",
	"requested_by",
	"queued_on",
	"finished_on",
	"next_attempt_on",
	"error",
	"recipients_total",
	"sent_count",
	"delivered_count",
	"read_count",
	"failed_count",
)
MAX_SMS = 1600
MAX_PARAMETER = 1024
BACKOFF_SECONDS = (1, 2, 4, 8, 15, 30)
PAUSE_MINUTES = 5
# A message deferred on this many resumes in a row is given up (its row Failed), not retried forever.
GIVE_UP = 3
# A broadcast whose job holds no lock for this long while Queued or Sending is resumed.
STALE_MINUTES = 5
LOCK_SECONDS = 120
BATCH = 200
INSERT_CHUNK = 2000
PROGRESS_EVERY = 1.0  # seconds between progress updates on the document


class Pause(Exception):
	"""The provider keeps deferring: stop here, the rows left Queued are sent when it resumes."""


# --- who is addressed ---------------------------------------------------------------------------


def check_union(union: str | None, user: str | None = None):
	"""The union exists and is in the user's part of the tree (403 otherwise, with why)."""
	if not union:
		frappe.throw(
			_("Choose the union whose members the broadcast goes to."),
			frappe.MandatoryError,
			title=_("Union missing"),
		)
	if not frappe.db.exists(UNION, union):
		frappe.throw(
			_("Union {0} does not exist.").format(frappe.bold(union)),
			frappe.LinkValidationError,
			title=_("Unknown union"),
		)
	if not in_scope(UNION, union, user or frappe.session.user):
		frappe.throw(
			_(
				"{0} is outside your part of the union tree: you can send announcements only to the "
				"members of the unions you are attached to and the unions below them."
			).format(frappe.bold(union)),
			frappe.PermissionError,
			title=_("Not your part of the tree"),
		)


def recipients_query(union: str, user: str, what: str) -> tuple[str, dict] | None:
	"""The select of `what` over the broadcast's recipients, or None when the user's scope holds no member."""
	criterion = scope_criterion(MEMBER, user)
	if criterion == NOTHING:
		return None
	bounds = frappe.db.get_value(UNION, union, ["lft", "rgt"], as_dict=True)
	member = f"`tab{MEMBER}`"
	conditions = [
		"subtree.lft >= %(lft)s",
		"subtree.rgt <= %(rgt)s",
		f"{member}.status = 'Active'",
		f"ifnull({member}.phone, '') != ''",
		broadcast_consent_condition(f"{member}.name"),
	]
	if criterion:
		conditions.append(f"({criterion})")
	sql = f"""select {what} from {member}
		join `tab{UNION}` subtree on subtree.name = {member}.workplace_union
		where {" and ".join(conditions)}"""
	return sql, {"lft": bounds.lft, "rgt": bounds.rgt}


def recipient_members(union: str, user: str) -> list[str]:
	query = recipients_query(union, user, f"`tab{MEMBER}`.name")
	if not query:
		return []
	return frappe.db.sql_list(query[0] + f" order by `tab{MEMBER}`.name", query[1])


def has_recipients(union: str, user: str) -> bool:
	query = recipients_query(union, user, "1")
	return bool(query and frappe.db.sql(query[0] + " limit 1", query[1]))


def nobody_message(union: str) -> str:
	return _(
		"No member of {0} or the unions below it has agreed to receive broadcasts and has a "
		"phone number: there is nobody to send this to."
	).format(frappe.bold(union))


def count_recipients(union: str, user: str) -> int:
	query = recipients_query(union, user, "count(*)")
	return int(frappe.db.sql(*query)[0][0]) if query else 0


def count_members(union: str, user: str) -> int:
	"""Active members of the union's subtree in the user's scope, consenting or not."""
	criterion = scope_criterion(MEMBER, user)
	if criterion == NOTHING:
		return 0
	bounds = frappe.db.get_value(UNION, union, ["lft", "rgt"], as_dict=True)
	member = f"`tab{MEMBER}`"
	return int(
		frappe.db.sql(
			f"""select count(*) from {member} join `tab{UNION}` subtree on subtree.name = {member}.workplace_union
			where subtree.lft >= %s and subtree.rgt <= %s and {member}.status = 'Active'
			{f"and ({criterion})" if criterion else ""}""",
			(bounds.lft, bounds.rgt),
		)[0][0]
	)


# --- what is sent -------------------------------------------------------------------------------


def settings() -> frappe._dict:
	values = frappe.db.get_singles_dict(SETTINGS)
	return frappe._dict(
		whatsapp_rate=flt(values.get("whatsapp_rate")) or 20.0,
		sms_rate=flt(values.get("sms_rate")) or 5.0,
		max_attempts=cint(values.get("max_attempts")) or 5,
	)


def templates() -> dict[str, frappe._dict]:
	return {
		row.template_name: row
		for row in frappe.get_all(
			"Broadcast Template",
			filters={"parent": SETTINGS, "parenttype": SETTINGS},
			fields=["template_name", "language", "parameter_count", "description"],
			order_by="idx asc",
		)
	}


def parameters_of(doc) -> list[str]:
	return [line.strip() for line in (doc.get("parameters") or "").splitlines() if line.strip()]


def check_content(doc):
	"""The announcement can be sent: a known channel and an approved template with its parameters,
	or an SMS text."""
	if doc.channel not in SENDERS:
		frappe.throw(
			_("Choose the channel: {0} or {1}.").format(_(WHATSAPP), _(SMS)),
			frappe.MandatoryError,
			title=_("Channel missing"),
		)
	if doc.channel == SMS:
		text = (doc.message or "").strip()
		if not text:
			frappe.throw(
				_("Write the message to send by SMS."), frappe.MandatoryError, title=_("Message missing")
			)
		if len(text) > MAX_SMS:
			frappe.throw(
				_("The message is longer than {0} characters.").format(MAX_SMS), title=_("Message too long")
			)
		return
	if not (doc.template or "").strip():
		frappe.throw(
			_("Choose the WhatsApp template to send."), frappe.MandatoryError, title=_("Template missing")
		)
	known = templates()
	template = known.get(doc.template.strip())
	if not template:
		frappe.throw(
			_("WhatsApp template {0} is not an approved template in Broadcast Settings ({1}).").format(
				frappe.bold(doc.template), ", ".join(known) or _("none is set")
			),
			frappe.ValidationError,
			title=_("Unknown template"),
		)
	given = parameters_of(doc)
	if len(given) != cint(template.parameter_count):
		frappe.throw(
			_("Template {0} takes {1} parameters, one a line; {2} given.").format(
				frappe.bold(template.template_name), cint(template.parameter_count), len(given)
			),
			title=_("Template parameters"),
		)
	if any(len(value) > MAX_PARAMETER for value in given):
		frappe.throw(
			_("A template parameter is longer than {0} characters.").format(MAX_PARAMETER),
			title=_("Template parameters"),
		)


def check_channel_available(channel: str):
	if channel == WHATSAPP:
		from unioncase.intake import whatsapp

		config = whatsapp.settings()
		if not (config.enabled and config.phone_number_id and whatsapp.secret("access_token")):
			frappe.throw(
				_(
					"WhatsApp is not set up for sending: enable it and set the Phone Number ID and the "
					"Access Token in WhatsApp Settings."
				),
				title=_("WhatsApp not set up"),
			)
	if channel == SMS and not sms.gateway_configured():
		frappe.throw(
			_(
				"SMS is not set up for sending: set the gateway URL, the message parameter and the "
				"receiver parameter in SMS Settings."
			),
			title=_("SMS not set up"),
		)


def validate_broadcast(doc, method=None):
	"""The controller's validate: in scope, sendable, and fixed once it is queued."""
	if doc.is_new():
		for field in MANAGED_FIELDS:
			doc.set(field, None)
		doc.status = DRAFT
	else:
		before = doc.get_doc_before_save()
		for field in MANAGED_FIELDS:
			# only the job and `send` change these, never a save
			doc.set(field, before.get(field) if before else doc.get(field))
		if before and before.status != DRAFT:
			changed = [field for field in CONTENT_FIELDS if doc.has_value_changed(field)]
			if changed:
				frappe.throw(
					_("Broadcast {0} has been sent and cannot change; make a new one.").format(
						frappe.bold(doc.name)
					),
					title=_("Broadcast sent"),
				)
			return
	if doc.template:
		doc.template = doc.template.strip()
	check_union(doc.union)
	check_content(doc)


# --- the official's actions ---------------------------------------------------------------------


def may_broadcast():
	if not frappe.has_permission(BROADCAST, "create"):
		frappe.throw(
			_("You are not permitted to send broadcasts to members."),
			frappe.PermissionError,
			title=_("Not permitted"),
		)


def permitted_broadcast(name: str, ptype: str):
	if not (isinstance(name, str) and frappe.db.exists(BROADCAST, name)):
		frappe.throw(
			_("Broadcast {0} does not exist.").format(frappe.bold(str(name))), frappe.DoesNotExistError
		)
	doc = frappe.get_doc(BROADCAST, name)
	if not frappe.has_permission(BROADCAST, ptype, doc):
		frappe.throw(
			_("You are not permitted to send broadcast {0}.").format(frappe.bold(name)),
			frappe.PermissionError,
			title=_("Not permitted"),
		)
	return doc


@frappe.whitelist(methods=["GET", "POST"])
def preview(union: str, channel: str | None = None) -> dict:
	"""How many members a broadcast to `union` would reach, before anything is sent (no numbers)."""
	may_broadcast()
	check_union(union)
	user = frappe.session.user
	return {
		"union": union,
		"channel": channel or WHATSAPP,
		"recipients": count_recipients(union, user),
		"members": count_members(union, user),
	}


@frappe.whitelist(methods=["GET"])
def template_choices() -> list[dict]:
	"""The approved WhatsApp templates officials may broadcast (names, languages, parameter counts)."""
	may_broadcast()
	return [
		{
			"template_name": row.template_name,
			"language": row.language,
			"parameter_count": cint(row.parameter_count),
			"description": row.description,
		}
		for row in templates().values()
	]


@frappe.whitelist(methods=["POST"])
def send(name: str) -> dict:
	"""Queue the broadcast: one delivery row per recipient now, the messages by the background job.

	On a paused or failed broadcast it resumes sending to the recipients not yet reached."""
	may_broadcast()
	doc = permitted_broadcast(name, "write")
	if doc.status in (QUEUED, SENDING):
		return status_of(doc.name)
	if doc.status == COMPLETED:
		frappe.throw(
			_("Broadcast {0} was sent already; make a new one to send it again.").format(
				frappe.bold(doc.name)
			),
			title=_("Broadcast sent"),
		)
	check_union(doc.union)
	check_content(doc)
	check_channel_available(doc.channel)
	if doc.status == DRAFT:
		if not has_recipients(doc.union, frappe.session.user):
			frappe.throw(nobody_message(doc.union), title=_("No recipients"))
		# the job writes the delivery rows (the recipients as they are when it starts), then sends
		values = {"requested_by": frappe.session.user, "queued_on": now_datetime(), "progress": 0}
	else:
		values = {}  # resume: the rows still Queued go out; the others keep their outcome
	doc.db_set({**values, "status": QUEUED, "error": None, "next_attempt_on": None, "finished_on": None})
	enqueue(doc.name, doc.recipients_total)
	return status_of(doc.name)


def add_recipients(broadcast: str, members: list[str], user: str):
	"""One Queued row a member, in multi-row inserts (a confederation's broadcast has 100,000s)."""
	now = now_datetime()
	columns = (
		"name",
		"creation",
		"modified",
		"owner",
		"modified_by",
		"broadcast",
		"member",
		"status",
		"attempts",
	)
	row = "({})".format(", ".join(["%s"] * len(columns)))
	for start in range(0, len(members), INSERT_CHUNK):
		chunk = members[start : start + INSERT_CHUNK]
		values = []
		for member in chunk:
			values.extend(
				(frappe.generate_hash(length=12), now, now, user, user, broadcast, member, QUEUED, 0)
			)
		frappe.db.sql(
			"insert into `tab{}` ({}) values {}".format(
				RECIPIENT, ", ".join(f"`{column}`" for column in columns), ", ".join([row] * len(chunk))
			),
			values,
		)


@frappe.whitelist(methods=["GET"])
def status_of(name: str) -> dict:
	"""The broadcast's progress and counts (the Desk polls it: no realtime server on every site)."""
	doc = permitted_broadcast(name, "read")
	return {
		field: doc.get(field)
		for field in (
			"name",
			"status",
			"progress",
			"recipients_total",
			"sent_count",
			"delivered_count",
			"read_count",
			"failed_count",
			"error",
			"next_attempt_on",
		)
	}


def job_id(broadcast: str) -> str:
	return f"member-broadcast::{broadcast}"


def enqueue(broadcast: str, recipients: int):
	rate = min(settings().whatsapp_rate, settings().sms_rate)
	frappe.enqueue(
		"unioncase.intake.broadcast.run",
		queue="long",
		timeout=int(recipients / rate * 2) + 600,
		broadcast=broadcast,
		job_id=job_id(broadcast),
		deduplicate=True,
		enqueue_after_commit=True,
	)


# --- the background job -------------------------------------------------------------------------


def lock_key(broadcast: str) -> str:
	return frappe.cache.make_key(f"unioncase:broadcast:lock:{broadcast}")


def holder() -> str:
	return f"{socket.gethostname()}:{os.getpid()}"


def acquire_lock(broadcast: str) -> bool:
	"""One job per broadcast. A lock left by a process of this host that no longer runs is taken over."""
	key = lock_key(broadcast)
	if frappe.cache.set(key, holder(), nx=True, ex=LOCK_SECONDS):
		return True
	current = frappe.cache.get(key)
	current = current.decode() if isinstance(current, bytes) else str(current or "")
	host, _sep, pid = current.rpartition(":")
	if host == socket.gethostname() and pid.isdecimal() and not process_alive(int(pid)):
		frappe.cache.set(key, holder(), ex=LOCK_SECONDS)
		return True
	return False


def process_alive(pid: int) -> bool:
	try:
		os.kill(pid, 0)
	except ProcessLookupError:
		return False
	except PermissionError:
		return True
	# a zombie (killed, not yet reaped) no longer sends anything
	try:
		with open(f"/proc/{pid}/stat") as stat:
			return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
	except OSError:
		return True


def release_lock(broadcast: str):
	key = lock_key(broadcast)
	current = frappe.cache.get(key)
	if (current.decode() if isinstance(current, bytes) else current) == holder():
		frappe.cache.delete(key)


def run(broadcast: str) -> str:
	"""The job: send to every row still Queued, at the provider's rate, each outcome committed."""
	frappe.set_user("Administrator")
	if not acquire_lock(broadcast):
		return "locked"
	try:
		doc = frappe.get_doc(BROADCAST, broadcast)
		if doc.status not in (QUEUED, SENDING):
			return doc.status
		delivery = Delivery(doc)
		try:
			return delivery.run()
		finally:
			delivery.close()
	finally:
		release_lock(broadcast)


class Delivery:
	"""Sends a broadcast's Queued rows. Rows are claimed (marked Sending, committed) about a second's
	worth at a time, and their outcomes committed about once a second: a job that dies leaves at most
	that second's rows Sending, which the next run marks Failed instead of sending them twice."""

	def __init__(self, doc):
		self.doc = doc
		config = settings()
		self.rate = config.whatsapp_rate if doc.channel == WHATSAPP else config.sms_rate
		self.max_attempts = max(config.max_attempts, 1)
		self.claim_size = max(1, min(BATCH, int(self.rate)))
		self.sender = frappe.get_attr(SENDERS[doc.channel])
		self.request, self.read = None, None
		self.parallel = 1
		if doc.channel in PARALLEL_SENDERS:
			self.request, self.read = (frappe.get_attr(path) for path in PARALLEL_SENDERS[doc.channel])
			self.parallel = max(1, min(MAX_PARALLEL, int(self.rate // 10)))
		self.content = content_of(doc)
		self.content.parallel = self.parallel
		self.next_send_at = time.monotonic()
		self.last_flush = time.monotonic()
		self.pending = []  # claimed rows not attempted yet
		self.inflight = deque()  # (row, number, attempt, attempts, future), oldest first
		self.pool = ThreadPoolExecutor(self.parallel) if self.parallel > 1 else None

	def run(self) -> str:
		name = self.doc.name
		self.doc.db_set({"status": SENDING, "error": None})
		# a row the last job was sending when it died may have reached the member: never send it twice
		frappe.db.sql(
			f"update `tab{RECIPIENT}` set status = %s, error = %s where broadcast = %s and status = %s",
			(
				FAILED,
				_("The sending job stopped while this message was going out; it was not sent again."),
				name,
				SENDING,
			),
		)
		frappe.db.commit()
		if not frappe.db.exists(RECIPIENT, {"broadcast": name}):
			# the first run: who receives it is decided now, in the sender's scope, in one transaction
			members = recipient_members(self.doc.union, self.doc.requested_by)
			if not members:
				self.doc.db_set(
					{"status": FAILED, "finished_on": now_datetime(), "error": nobody_message(self.doc.union)}
				)
				frappe.db.commit()
				return FAILED
			add_recipients(name, members, self.doc.requested_by)
			self.doc.db_set("recipients_total", len(members))
			frappe.db.commit()
		self.flush()
		try:
			while rows := self.next_rows():
				self.claim(rows)
				while self.pending or self.inflight:
					if self.pending and len(self.inflight) < self.parallel:
						self.start(self.pending.pop(0))
					else:
						self.finish_oldest()
					if time.monotonic() - self.last_flush >= PROGRESS_EVERY:
						self.flush()
				self.flush()
		except Pause as pause:
			self.drain()
			self.release_pending()
			resume_on = add_to_date(now_datetime(), minutes=PAUSE_MINUTES)
			self.doc.db_set({"status": PAUSED, "next_attempt_on": resume_on, "error": str(pause)})
			self.flush()
			return PAUSED
		except Exception:
			frappe.db.rollback()
			frappe.log_error(
				title=_("Broadcast {0} stopped").format(name),
				reference_doctype=BROADCAST,
				reference_name=name,
			)
			self.release_pending()
			resume_on = add_to_date(now_datetime(), minutes=PAUSE_MINUTES)
			self.doc.db_set(
				{
					"status": PAUSED,
					"next_attempt_on": resume_on,
					"error": _("The broadcast stopped on an error (see the Error Log); it resumes later."),
				}
			)
			frappe.db.commit()
			return PAUSED
		counts = tally(name)
		status = FAILED if counts["failed_count"] == counts["recipients_total"] else COMPLETED
		self.doc.db_set(
			{
				**counts,
				"status": status,
				"progress": 100,
				"finished_on": now_datetime(),
				"error": _("No message could be sent; see the delivery report.")
				if status == FAILED
				else None,
			}
		)
		frappe.db.commit()
		publish(name, 100, _("Broadcast sent"))
		return status

	def next_rows(self) -> list:
		"""The next Queued rows with the member's number if they still qualify (consent may be withdrawn
		while the broadcast goes out: the latest event wins)."""
		member = f"`tab{MEMBER}`"
		return frappe.db.sql(
			f"""select recipient.name, recipient.attempts, {member}.phone,
				({member}.status = 'Active' and {broadcast_consent_condition(f"{member}.name")}) as qualifies
			from `tab{RECIPIENT}` recipient
				left join {member} on {member}.name = recipient.member
			where recipient.broadcast = %s and recipient.status = %s
			order by recipient.name limit {self.claim_size}""",
			(self.doc.name, QUEUED),
			as_dict=True,
		)

	def claim(self, rows: list):
		names = [row.name for row in rows]
		frappe.db.sql(
			f"update `tab{RECIPIENT}` set status = %s where name in %s and status = %s",
			(SENDING, names, QUEUED),
		)
		frappe.db.commit()
		self.pending = list(rows)

	def release_pending(self):
		"""Claimed rows not attempted yet go back to Queued: the next run sends them."""
		if self.pending:
			frappe.db.sql(
				f"update `tab{RECIPIENT}` set status = %s where name in %s and status = %s",
				(QUEUED, [row.name for row in self.pending], SENDING),
			)
			self.pending = []
		frappe.db.commit()

	def start(self, row):
		"""Check the row, then send it: in a sending thread where the channel allows, else now."""
		if not row.qualifies:
			return self.record(
				row, FAILED, _("The member withdrew consent to broadcasts (or left) before sending.")
			)
		try:
			number = normalize_phone(row.phone, "Phone")
		except frappe.ValidationError:
			frappe.clear_messages()
			number = None
		if not number:
			return self.record(row, FAILED, _("The member's phone number is not a valid phone number."))
		attempts = cint(row.attempts)
		if attempts >= GIVE_UP * self.max_attempts:
			return self.record(
				row,
				FAILED,
				_("The provider did not accept this message after {0} attempts.").format(attempts),
			)
		self.submit(row, number, 1, attempts + 1)

	def submit(self, row, number: str, attempt: int, attempts: int):
		self.pace()
		future = Future()
		try:
			if self.pool:
				future = self.pool.submit(self.request(number, self.content))
			else:
				future.set_result(self.sender(number, self.content))
		except Exception as error:
			future.set_exception(error)
		self.inflight.append((row, number, attempt, attempts, future))

	def outcome(self, future):
		"""The provider's message id, or the exception the channel raised."""
		answer = future.result()
		return self.read(answer) if self.pool else answer

	def finish_oldest(self):
		row, number, attempt, attempts, future = self.inflight.popleft()
		try:
			message_id = self.outcome(future)
		except Exception as error:
			if getattr(error, "permanent", False):
				return self.record(row, FAILED, scrub(str(error)), attempts=attempts)
			if attempt >= self.max_attempts:
				self.record(row, QUEUED, scrub(str(error)), attempts=attempts)
				raise Pause(
					_(
						"The provider did not accept messages after {0} attempts ({1}); the broadcast "
						"resumes in {2} minutes."
					).format(attempts, scrub(str(error)), PAUSE_MINUTES)
				) from None
			self.flush()  # what was sent so far is kept while this one waits
			time.sleep(BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS)) - 1])
			return self.submit(row, number, attempt + 1, attempts + 1)
		self.record(row, SENT, None, attempts=attempts, message_id=message_id)

	def drain(self):
		"""Pausing: record what the requests in flight became; a deferred one waits in the queue."""
		while self.inflight:
			row, _number, _attempt, attempts, future = self.inflight.popleft()
			try:
				self.record(row, SENT, None, attempts=attempts, message_id=self.outcome(future))
			except Exception as error:
				status = FAILED if getattr(error, "permanent", False) else QUEUED
				self.record(row, status, scrub(str(error)), attempts=attempts)

	def close(self):
		if self.pool:
			self.pool.shutdown(wait=True, cancel_futures=True)

	def record(self, row, status: str, error: str | None, attempts: int | None = None, message_id=None):
		"""A row's outcome, committed with the next flush."""
		values = {"status": status, "error": (error or "")[:1000] or None}
		if attempts is not None:
			values["attempts"] = attempts
		if status == SENT:
			values.update({"sent_on": now_datetime(), "provider_message_id": message_id})
		frappe.db.set_value(RECIPIENT, row.name, values, update_modified=False)

	def pace(self):
		"""Never faster than the provider's rate: one message every 1/rate seconds."""
		wait = self.next_send_at - time.monotonic()
		if wait > 0:
			time.sleep(wait)
		self.next_send_at = max(self.next_send_at, time.monotonic()) + 1 / self.rate

	def flush(self):
		"""Commit the outcomes so far and show the progress on the broadcast (and in the Desk)."""
		self.last_flush = time.monotonic()
		counts = tally(self.doc.name)
		done = counts["sent_count"] + counts["failed_count"]
		total = counts["recipients_total"] or 1
		percent = round(100 * done / total, 1)
		self.doc.db_set({**counts, "progress": percent})
		frappe.db.commit()
		frappe.cache.expire(lock_key(self.doc.name), LOCK_SECONDS)
		publish(self.doc.name, percent, _("{0} of {1} sent").format(done, total))


def publish(name: str, percent: float, text: str):
	frappe.publish_progress(percent, title=_("Broadcast"), doctype=BROADCAST, docname=name, description=text)


def tally(broadcast: str) -> dict:
	by_status = dict(
		frappe.db.sql(
			f"select status, count(*) from `tab{RECIPIENT}` where broadcast = %s group by status", broadcast
		)
	)

	def count(*statuses):
		return sum(int(by_status.get(status) or 0) for status in statuses)

	return {
		"recipients_total": count(*RANK),
		"sent_count": count(SENT, DELIVERED, READ),
		"delivered_count": count(DELIVERED, READ),
		"read_count": count(READ),
		"failed_count": count(FAILED),
	}


# Provider errors may quote the number they refused: it never reaches the delivery report.
NUMBER = re.compile(r"\+?\d(?:[\s-]?\d){7,}")


def scrub(text: str) -> str:
	return NUMBER.sub("***", text or "")[:1000]


# --- channels -----------------------------------------------------------------------------------


def content_of(doc) -> frappe._dict:
	template = templates().get(doc.template) if doc.channel == WHATSAPP else None
	return frappe._dict(
		channel=doc.channel,
		template=doc.template,
		language=(template.language if template else None) or "id",
		parameters=parameters_of(doc),
		message=(doc.message or "").strip(),
	)


def whatsapp_connection(content):
	from unioncase.intake import whatsapp

	if not content.get("connection"):
		# settings, token and kept-alive HTTP connections, once a job
		content.connection = whatsapp.open_connection(content.get("parallel") or 1)
	return content.connection


def send_whatsapp(number: str, content) -> str | None:
	from unioncase.intake import whatsapp

	return whatsapp.send_template(
		number, content.template, content.language, content.parameters, whatsapp_connection(content)
	)


def whatsapp_request(number: str, content):
	from unioncase.intake import whatsapp

	return whatsapp.template_request(
		number, content.template, content.language, content.parameters, whatsapp_connection(content)
	)


def send_sms(number: str, content) -> str | None:
	return sms.send_text(number, content.message)


# --- provider callbacks and the scheduler -------------------------------------------------------


def record_status(status: dict, new: str) -> bool:
	"""A WhatsApp `statuses` callback for a broadcast message: True when a recipient row has its id."""
	from unioncase.intake import whatsapp

	row = frappe.db.get_value(
		RECIPIENT,
		{"provider_message_id": status.get("id")},
		["name", "broadcast", "status"],
		as_dict=True,
	)
	if not (row and status.get("id")):
		return False
	values = {}
	if new == FAILED:
		values = {"status": FAILED, "error": scrub(whatsapp.status_error(status))}
	elif RANK.get(new, 0) > RANK.get(row.status, 0):
		values = {"status": new}
		if new == DELIVERED:
			values["delivered_on"] = now_datetime()
		if new == READ:
			values["read_on"] = now_datetime()
	if values:
		frappe.db.set_value(RECIPIENT, row.name, values, update_modified=False)
		frappe.db.set_value(BROADCAST, row.broadcast, tally(row.broadcast), update_modified=False)
	return True


def resume_due_broadcasts():
	"""Scheduler: resume paused broadcasts whose wait is over, and ones whose job died."""
	due = frappe.get_all(
		BROADCAST,
		filters=[
			["status", "=", PAUSED],
			["next_attempt_on", "is", "set"],
			["next_attempt_on", "<=", now_datetime()],
		],
		pluck="name",
	)
	stale = add_to_date(now_datetime(), minutes=-STALE_MINUTES)
	for name in frappe.get_all(
		BROADCAST, filters={"status": ["in", [QUEUED, SENDING]], "modified": ["<", stale]}, pluck="name"
	):
		if frappe.cache.get(lock_key(name)) is None:
			due.append(name)
	for name in due:
		frappe.db.set_value(BROADCAST, name, {"status": QUEUED, "next_attempt_on": None})
		enqueue(name, frappe.db.get_value(BROADCAST, name, "recipients_total") or 0)
	frappe.db.commit()
	return due


# --- permissions --------------------------------------------------------------------------------


def union_subquery(user) -> str | None:
	"""The unions in the user's scope, as a subquery; None when unrestricted, NOTHING for none."""
	criterion = scope_criterion(UNION, user)
	if not criterion or criterion == NOTHING:
		return criterion or None
	return f"select `tab{UNION}`.name from `tab{UNION}` where {criterion}"


def broadcast_query(user=None, doctype=None):
	unions = union_subquery(user or frappe.session.user)
	if unions is None:
		return ""
	if unions == NOTHING:
		return NOTHING
	return f"`tab{BROADCAST}`.`union` in ({unions})"


def recipient_query(user=None, doctype=None):
	condition = broadcast_query(user)
	if not condition:
		return ""
	return f"`tab{RECIPIENT}`.broadcast in (select `tab{BROADCAST}`.name from `tab{BROADCAST}` where {condition})"


def has_broadcast_permission(doc, ptype=None, user=None, debug=False):
	"""A broadcast belongs to its union's part of the tree; a new one is placed (and refused with
	why, a 403) by validate_broadcast."""
	user = user or frappe.session.user
	if doc.is_new() or not doc.get("name"):
		return True
	stored = frappe.db.get_value(BROADCAST, doc.name, "union")
	return bool(stored) and in_scope(UNION, stored, user)


def has_recipient_permission(doc, ptype=None, user=None, debug=False):
	return bool(doc.broadcast) and bool(frappe.has_permission(BROADCAST, "read", doc.broadcast, user=user))
