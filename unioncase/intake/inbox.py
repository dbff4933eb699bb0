"""Store-then-process: every message from a worker, over any channel, lands here first.

A channel calls `receive` in its web request (or mail fetch) with the raw payload, before parsing
anything; the message is committed at once, so nothing is lost if processing fails. A background job
(`process_message`) then makes or joins the case. A failure is kept with its error and retried with
backoff (`retry_due_messages`, every few minutes); an admin can retry at once (`retry`).
"""

import hashlib
import json
from datetime import timedelta

import frappe
from frappe import _
from frappe.utils import add_to_date, now_datetime
from frappe.utils.password import decrypt, encrypt

from unioncase import compat
from unioncase.privacy.masking import mask_contacts_in_text

INBOUND = "Inbound Message"
RECEIVED, PROCESSED, IGNORED, QUARANTINED, FAILED = (
	"Received",
	"Processed",
	"Ignored",
	"Quarantined",
	"Failed",
)
QUEUE = "short"
# Minutes to wait before each retry; after the last one the message waits for an admin's Retry.
BACKOFF_MINUTES = (1, 5, 15, 60, 240)
# A message still Received after this long lost its job (a worker or Redis restart): queue it again.
STALE_AFTER = timedelta(minutes=10)
# With this many jobs already waiting, a new message gets no job of its own: one backlog job processes the
# waiting messages, oldest first, in one process (the worker forks for every job, which costs more than
# processing a message on a small machine), and a burst never meets Frappe's own limit of waiting jobs
# (max_queued_jobs: 500, and 50 a site), past which it refuses them.
BACKLOG_AT = 10
# On the long queue: a worker serving every queue takes it last, and production benches give it its own.
BACKLOG_JOB, BACKLOG_QUEUE, BACKLOG_BATCH = "inbound-message-backlog", "long", 100
# After a batch, the run makes way when this many jobs wait on the worker's other queues (each case it
# opens queues its assignment notice there): behind a run that never ends they would reach Frappe's limit
# and the next case's notice would be refused, failing the case.
BACKLOG_YIELD_AT = 100
OTHER_QUEUES = ("short", "default")
BACKLOG_SECONDS = 20 * 60
# The backlog job's flag, kept on the queue's Redis beside its jobs (per site: a bench's sites share their
# queues), so that one round trip tells a new message both how many jobs wait and whether it is wanted.
BACKLOG_WANTED = "unioncase:inbox:backlog-wanted"
BACKLOG_FLAG_SECONDS = 60
DEDUP_KEY_MAX, SUMMARY_MAX = 140, 1000
ADMIN_ROLES = ("System Manager", "Union Administrator")
# What processes each kind of message: (channel, kind) -> function(inbound, payload) -> Outcome.
PROCESSORS = {
	("Web", "New Report"): "unioncase.intake.web.process_report",
	("Web", "Follow-up"): "unioncase.intake.web.process_follow_up",
	# mail arrives as a new report; processing makes it a follow-up when it threads into a case
	("Email", "New Report"): "unioncase.intake.email.process_mail",
	("Email", "Follow-up"): "unioncase.intake.email.process_mail",
	("WhatsApp", "New Report"): "unioncase.intake.whatsapp.process",
	("WhatsApp", "Delivery Status"): "unioncase.intake.whatsapp.process_status",
	("SMS", "New Report"): "unioncase.intake.sms.process",
	("SMS", "Delivery Status"): "unioncase.intake.sms.process_status",
}


class Outcome:
	"""What processing decided: the state, why, and the case made or joined."""

	def __init__(self, state: str, reason: str | None = None, grievance: str | None = None):
		self.state, self.reason, self.grievance = state, reason, grievance


def open_anonymous_case(union: str, channel: str, subject: str, text: str, received_on):
	"""The case a channel's first message makes: its text as the description, the worker anonymous (their
	address stays behind the contact handle), a workplace union owner also its workplace."""
	return frappe.get_doc(
		{
			"doctype": "Grievance",
			"kind": "Complaint",
			"subject": subject,
			"description": "<p>{}</p>".format(frappe.utils.escape_html(text).replace("\n", "<br>")),
			"owning_union": union,
			"workplace_union": union
			if frappe.db.get_value("Union", union, "level") == "Workplace Union"
			else None,
			"channel": channel,
			"received_on": received_on,
			"is_anonymous": 1,
		}
	).insert(ignore_permissions=True)


def receive(
	channel: str,
	delivery_key: str,
	payload: dict,
	*,
	kind: str = "New Report",
	union: str | None = None,
	summary: str = "",
	tracking_code_hash: str | None = None,
	after_insert=None,
) -> tuple[str, bool]:
	"""Store a message as it arrived and queue its processing; (name, False) if it was stored before.

	`after_insert(name)` stores what belongs with it (attachments) in the same transaction. Commits: the
	message must survive whatever the request does next. Its job is queued after the commit, and a full
	or unreachable queue never refuses it (see `enqueue`). A delivery stored before is found by the key's
	unique index (no look first: a query every new message would pay, where a repeat is the exception).
	"""
	dedup_key = delivery_key_of(channel, delivery_key)
	# The row is written as it is (db_insert: no controller or hook runs on Inbound Message, every value
	# is the inbox's own and fits its column), which is most of what the request costs otherwise.
	doc = frappe.get_doc(
		{
			"doctype": INBOUND,
			"name": frappe.generate_hash(length=10),
			"channel": channel,
			"kind": kind,
			"state": RECEIVED,
			"dedup_key": dedup_key,
			"union": union,
			"received_on": now_datetime(),
			"summary": (summary or "")[:SUMMARY_MAX],
			"payload": encrypt(json.dumps(payload, ensure_ascii=False)),
			"tracking_code_hash": tracking_code_hash,
		}
	)
	try:
		doc.db_insert()
	except (frappe.DuplicateEntryError, frappe.UniqueValidationError):
		# the same delivery, stored before (or by a concurrent request a moment ago); InnoDB undoes the
		# refused INSERT alone, so what the transaction wrote before it stands (no savepoint needed)
		drop_last_message()
		return stored_as(dedup_key), False
	if after_insert:
		after_insert(doc.name)
	compat.commit_and_go_on()
	enqueue(doc.name, after_commit=False, new=True)
	return doc.name, True


def delivery_key_of(channel: str, delivery_key: str) -> str:
	"""The stored unique key: channel and delivery key, hashed when longer than its column."""
	key = f"{channel.lower()}:{delivery_key}"
	if len(key) > DEDUP_KEY_MAX:
		key = f"{channel.lower()}:sha256:{hashlib.sha256(delivery_key.encode()).hexdigest()}"
	return key


def stored_as(dedup_key: str) -> str | None:
	"""The message stored with this unique key, if any."""
	row = frappe.db.sql(f"select name from `tab{INBOUND}` where dedup_key = %s", dedup_key)
	return row[0][0] if row else None


def job_id(message: str) -> str:
	return f"inbound-message::{message}"


def enqueue(message: str, after_commit: bool = True, new: bool = False) -> bool:
	"""Queue a stored message's processing; False when it waits for the backlog job or the sweep instead.

	A message `receive` stored just now (`new`) gets no job of its own once ten jobs wait (the backlog job
	takes it); a retry always gets one while the queue takes it.

	Never raises: the message is stored, and a queue that is full (a burst, the workers busy or down) or
	unreachable must not turn its acceptance into an error. Frappe refuses a job past max_queued_jobs, in
	the request (a web report was answered 403, nothing stored, until this: the refusal itself fails
	for a guest); here a refused job hands the message to the backlog job, and a message that got no job
	at all (Redis unreachable) is queued again by `retry_due_messages` once it is STALE_AFTER old.
	"""
	try:
		if new:
			jobs, wanted = waiting_and_wanted()
			if jobs >= BACKLOG_AT:
				# raised means the backlog job has not looked since: it will see this message, committed
				if not wanted:
					enqueue_backlog()
				return False
		frappe.enqueue(
			"unioncase.intake.inbox.process_message",
			queue=QUEUE,
			message=message,
			job_id=job_id(message),
			deduplicate=not new,  # a message stored just now has no job yet
			enqueue_after_commit=after_commit,
		)
		return True
	except Exception:
		drop_last_message()
		frappe.logger("unioncase.intake").warning(
			"inbound message %s: no job of its own, left to the backlog job", message, exc_info=True
		)
		enqueue_backlog()
		return False


def enqueue_backlog(successor: bool = False):
	"""Queue the backlog job; `successor`: queued by a run for the next one, under an id of its own (the
	run's own id is taken until it ends, so Frappe's deduplication would drop it)."""
	# raised before the job is queued, lowered by the job before each look for waiting messages: a message
	# stored while the job is finishing (so not queued again) is seen by its next look; it lapses within a
	# minute, so a job that was lost (a raised flag, no job) holds new messages back no longer than that
	try:
		queue_handle(QUEUE).connection.set(backlog_flag_key(), 1, ex=BACKLOG_FLAG_SECONDS)
		frappe.enqueue(
			"unioncase.intake.inbox.process_backlog",
			queue=BACKLOG_QUEUE,
			job_id=f"{BACKLOG_JOB}-{frappe.generate_hash(length=8)}" if successor else BACKLOG_JOB,
			deduplicate=not successor,
			timeout=BACKLOG_SECONDS + 5 * 60,
		)
	except Exception:
		drop_last_message()
		frappe.logger("unioncase.intake").warning("inbox backlog job not queued", exc_info=True)


def drop_last_message():
	"""Drop the message Frappe's throw left for the user: a refusal handled here is not the request's outcome."""
	if getattr(frappe.local, "message_log", None):
		frappe.local.message_log.pop()


def process_backlog(batch: int = BACKLOG_BATCH) -> int:
	"""The backlog job: process waiting messages, oldest first, until none waits; the number processed.

	A run lasts at most BACKLOG_SECONDS, and makes way after a batch when the other queues fill up; either
	way its successor carries on."""
	started, done, stuck = now_datetime(), 0, set()
	while now_datetime() - started < timedelta(seconds=BACKLOG_SECONDS):
		backlog_looks()
		frappe.db.rollback()
		filters = [["state", "=", RECEIVED]] + ([["name", "not in", list(stuck)]] if stuck else [])
		waiting = frappe.get_all(INBOUND, filters=filters, pluck="name", order_by="creation asc", limit=batch)
		if not waiting:
			if backlog_wanted():
				continue  # a message arrived while this run was looking: look again
			return done
		for message in waiting:
			try:
				process_message(message)
				done += 1
			except Exception:
				# e.g. a lock wait: left Received, for its own job or the sweep
				frappe.db.rollback()
				stuck.add(message)
		if others_waiting() >= BACKLOG_YIELD_AT:
			break
	enqueue_backlog(successor=True)
	return done


def others_waiting() -> int:
	return sum(waiting(name) for name in OTHER_QUEUES)


_queues: dict[tuple[str, str], object] = {}


def queue_handle(queue: str):
	"""One of the site's queues. The handle is kept for the process: building it (its Redis connection
	looked up through a retrying wrapper) cost more than asking it anything."""
	from frappe.utils.background_jobs import get_queue

	key = (frappe.local.site, queue)
	if key not in _queues:
		_queues[key] = get_queue(queue)
	return _queues[key]


def waiting(queue: str) -> int:
	"""How many jobs wait on one of the site's queues."""
	return queue_handle(queue).count


def backlog_flag_key() -> str:
	return f"{BACKLOG_WANTED}:{frappe.local.site}"


def waiting_and_wanted() -> tuple[int, bool]:
	"""How many jobs wait on the inbox's queue, and whether the backlog job is wanted, in one round trip."""
	queue = queue_handle(QUEUE)
	pipeline = queue.connection.pipeline(transaction=False)
	pipeline.llen(queue.key)
	pipeline.exists(backlog_flag_key())
	jobs, wanted = pipeline.execute()
	return jobs, bool(wanted)


def backlog_wanted() -> bool:
	return bool(queue_handle(QUEUE).connection.exists(backlog_flag_key()))


def backlog_looks():
	"""The backlog job lowers the flag before it looks for waiting messages."""
	queue_handle(QUEUE).connection.delete(backlog_flag_key())


def payload_of(doc) -> dict:
	return json.loads(decrypt(doc.payload))


def process_message(message: str):
	"""The background job: process one stored message, once; a failure is kept and retried later."""
	frappe.set_user("Administrator")  # intake acts for the system, not for the (guest) sender
	doc = frappe.get_doc(INBOUND, message, for_update=True)
	if doc.state not in (RECEIVED, FAILED):
		return doc.state
	try:
		processor = frappe.get_attr(PROCESSORS[(doc.channel, doc.kind)])
		outcome = processor(doc, payload_of(doc))
	except Exception as error:
		frappe.db.rollback()
		record_failure(message, error)
		return FAILED
	doc.update(
		{
			"state": outcome.state,
			"state_reason": outcome.reason,
			"grievance": outcome.grievance,
			"processed_on": now_datetime(),
			"attempts": (doc.attempts or 0) + 1,
			"next_attempt_on": None,
			"error": None,
		}
	)
	if outcome.grievance:
		# officials of the case's owner see the message that made it
		doc.union = frappe.db.get_value("Grievance", outcome.grievance, "owning_union")
	doc.save(ignore_permissions=True)
	frappe.db.commit()
	return outcome.state


def record_failure(message: str, error: Exception):
	attempts = (frappe.db.get_value(INBOUND, message, "attempts") or 0) + 1
	retry_in = BACKOFF_MINUTES[attempts - 1] if attempts <= len(BACKOFF_MINUTES) else None
	text = mask_contacts_in_text(f"{type(error).__name__}: {error}")[:1000]
	frappe.db.set_value(
		INBOUND,
		message,
		{
			"state": FAILED,
			"attempts": attempts,
			"error": text,
			"state_reason": _("Processing failed; retried automatically")
			if retry_in
			else _("Processing failed {0} times; an administrator can retry it").format(attempts),
			"next_attempt_on": add_to_date(now_datetime(), minutes=retry_in) if retry_in else None,
		},
	)
	frappe.log_error(
		title=_("Inbound message {0} failed").format(message),
		reference_doctype=INBOUND,
		reference_name=message,
	)
	frappe.db.commit()


def retry_due_messages():
	"""Scheduler: queue failed messages whose backoff has passed, and messages whose job was lost."""
	now = now_datetime()
	due = frappe.get_all(
		INBOUND,
		# "is set" first: Frappe compares an empty datetime as 0001-01-01, which would retry a message given up on
		filters=[["state", "=", FAILED], ["next_attempt_on", "is", "set"], ["next_attempt_on", "<=", now]],
		pluck="name",
		limit=500,
	)
	stale = frappe.get_all(
		INBOUND, filters={"state": RECEIVED, "received_on": ["<", now - STALE_AFTER]}, pluck="name", limit=500
	)
	for message in due + stale:
		enqueue(message)
	frappe.db.commit()
	return due + stale


@frappe.whitelist(methods=["POST"])
def retry(name: str) -> str:
	"""An admin's Retry on a failed (or stuck) message: queue it now."""
	frappe.only_for(ADMIN_ROLES)
	doc = frappe.get_doc(INBOUND, name)
	doc.check_permission("write")
	if doc.state not in (FAILED, RECEIVED):
		frappe.throw(
			_("Only a failed or waiting message can be retried; this one is {0}.").format(_(doc.state)),
			title=_("Nothing to retry"),
		)
	frappe.db.set_value(INBOUND, name, "next_attempt_on", now_datetime())
	enqueue(name)
	return _("Queued again")


MERGEABLE = (FAILED, QUARANTINED, IGNORED, RECEIVED)


@frappe.whitelist(methods=["POST"])
def merge(name: str, case: str) -> str:
	"""An official attaches a message that made no case to an existing one: one problem, one case.

	What the worker wrote joins the case's conversation; a web message's files move with it, a mail's
	safe attachments are saved (a quarantined mail's never are).
	"""
	doc = frappe.get_doc(INBOUND, name)
	doc.check_permission("read")
	frappe.has_permission("Grievance", "write", case, throw=True)
	if doc.grievance:
		frappe.throw(
			_("This message is already part of case {0}.").format(frappe.bold(doc.grievance)),
			title=_("Nothing to merge"),
		)
	if doc.state not in MERGEABLE:
		frappe.throw(
			_("Only a message that made no case can be merged; this one is {0}.").format(_(doc.state)),
			title=_("Nothing to merge"),
		)
	from unioncase.intake import conversation, files

	payload = payload_of(doc)
	if doc.channel == "Email":
		from unioncase.intake import email

		text, attachments = email.content_for_merge(payload, keep_attachments=doc.state != QUARANTINED)
	else:
		text, attachments = payload.get("description") or payload.get("message") or "", []
	conversation.record_inbound(case, doc.channel, text or _("(no text)"), doc.name)
	files.move(INBOUND, doc.name, "Grievance", case)
	for content in attachments:
		files.save(content, "Grievance", case, f"lampiran-{frappe.generate_hash(length=8)}")
	doc.db_set(
		{
			"state": PROCESSED,
			"grievance": case,
			"union": frappe.db.get_value("Grievance", case, "owning_union"),
			"kind": "Follow-up",
			"state_reason": _("Merged into case {0} by {1}").format(case, frappe.session.user),
			"processed_on": now_datetime(),
			"next_attempt_on": None,
		}
	)
	frappe.get_doc("Grievance", case).add_comment(
		"Info", _("A message from the inbox was merged into this case.")
	)
	return case


def refused_key(channel: str) -> str:
	return frappe.cache.make_key(f"unioncase:{channel.lower()}:rejected:{now_datetime().date().isoformat()}")


def count_refused(channel: str, reason: str):
	"""Count a webhook post a channel refused before reading it: why and from where, nothing it held."""
	key = refused_key(channel)
	frappe.cache.incr(key)
	frappe.cache.expire(key, 8 * 24 * 60 * 60)
	frappe.logger(f"unioncase.{channel.lower()}").warning(
		"webhook refused: %s (from %s)", reason, getattr(frappe.local, "request_ip", None) or "unknown"
	)


def refused_today(channel: str) -> int:
	return int(frappe.cache.get(refused_key(channel)) or 0)
