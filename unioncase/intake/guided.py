"""The guided first contact: a few questions, in the worker's language, before a case opens.

Channel-independent: WhatsApp (`whatsapp.process`) and SMS (`sms.open_or_join`) both call it, each when
its settings' *Guided First Contact* is on (WhatsApp Settings, SMS Intake Settings: on by default). A
channel parses its message and calls, in the inbox's job,

	result = guided.handle(channel, sender, text, reply_id, inbound, has_media=False)

- `channel`: "WhatsApp" or "SMS" (the Case Message channel the prompts are queued on);
- `sender`: a `Sender(number, address_hash, union, channel_number, name)`: the E.164 number (in memory
  only: it goes into the Contact Handle encrypted, never anywhere in the clear), its keyed hash
  (`handle.address_hash`), the receiving union the channel routed to (None: Intake Settings' default),
  the business number or gateway id the worker wrote to (answers go back from it) and the name the
  channel shows (used only if the worker chooses to be named);
- `text`: what the worker wrote (or the title of the button they tapped); `reply_id`: the id of the
  button or list row they tapped (interactive replies), else None;
- `inbound`: the Inbound Message being processed; `has_media`: a photo, document or voice note came.

It returns a `Result`: `grievance` (the case opened or joined, else None), `opened` (the case was
opened by this message), `inbound_messages` (when opened: every inbound message of the conversation,
so the channel can attach their media) and `prompts`, the Case Messages it queued (purpose *Prompt*
or *Acknowledgement*). Each prompt's `content` is the text in the worker's language and `options`
(JSON) its choices, `{"kind": "buttons" | "list", "button": ..., "options": [{"id", "title",
"description"}]}`; the channel's sender renders them when it delivers: WhatsApp as interactive reply
buttons (at most 3) or a list (at most 10 rows), SMS as plain numbered lines (`as_text`, "0" the way to
a person). A channel without buttons (`channels` in the prompts file) is sent a prompt's `short` text
where it has one, so every SMS prompt fits 2 GSM-7 parts. A numbered reply ("2"), a button's id, its
title in either language and yes/no words are all accepted.

The questions: which workplace (the workplace unions under the receiving union; skipped when the
number is a known member's, or when the receiving union is a workplace), what happened (skipped when
the first message already says it), anonymous or named (with one honest sentence on what anonymity
does and does not protect), consent to the Consent Text in force for the language (recorded on the
case with `record_consent`, so a Consent Event), and whether they want stage-change notices. Bahasa
Indonesia by default; "EN"/"English" switches to English (and "ID" back) at any point. "0" or
"MANUSIA" opens the case at once for triage with what is known. A conversation is resumable: its
state is an Intake Conversation (keyed by the channel and the number's hash, no number in it); a message
more than `expiry_hours` (the channel's settings, 24 by default) after the worker's last one starts
again, and what the expired one held is deleted. A later message from a number with an open case joins
that case, unless the worker sends "BARU"/"NEW". Words and choices are data: `guided_prompts.json`.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path

import frappe
from frappe import _
from frappe.utils import add_to_date, escape_html, get_datetime, get_url, now_datetime
from frappe.utils.password import encrypt, get_encryption_key

from unioncase.intake import conversation, inbox, matching, tracking
from unioncase.intake import handle as handles
from unioncase.privacy.consent import CONSENT_TEXT, current_consent_text, record_consent

CONVERSATION = "Intake Conversation"
ACTIVE, OPENED, EXPIRED, DECLINED = "Active", "Opened", "Expired", "Declined"
PROMPT, ACKNOWLEDGEMENT, STAGE_NOTICE = "Prompt", "Acknowledgement", "Stage Notice"
LANGUAGES = ("id", "en")
CLOSED_STATES = ("Resolved", "Closed", "Rejected")
MAX_BUTTONS, MAX_ROWS = 3, 10
BUTTON_TITLE, ROW_TITLE, ROW_DESCRIPTION = 20, 24, 72
MAX_WHAT = 8000
# a list holds the workplaces, "not in the list" and "talk to a person"; more: the worker types a name
LISTED_WORKPLACES = MAX_ROWS - 2
MAX_WORKPLACES = 2000


@cache
def prompts() -> dict:
	return json.loads((Path(__file__).parent / "guided_prompts.json").read_text())


@dataclass
class Sender:
	number: str
	address_hash: str
	union: str | None = None
	channel_number: str | None = None
	name: str | None = None


@dataclass
class Result:
	grievance: str | None = None
	opened: bool = False
	prompts: list = field(default_factory=list)
	inbound_messages: list = field(default_factory=list)


# --- entry point --------------------------------------------------------------------------------


def handle(
	channel: str, sender: Sender, text: str, reply_id: str | None, inbound, has_media: bool = False
) -> Result:
	"""One message from a worker: continue their conversation, join their open case, or start one."""
	text = (text or "").strip()
	command = command_of(text, reply_id)
	conv = find_conversation(channel, sender.address_hash)
	expired_note = False
	if conv and conv.state == ACTIVE and is_stale(conv):
		expire(conv, current=inbound)
		expired_note = True
	if conv and conv.state == ACTIVE:
		return advance(conv, sender, text, reply_id, command, inbound, has_media)
	found = open_case_of(sender.address_hash)
	if found and command != "new":
		join(found[0], channel, text, inbound.name)
		return Result(grievance=found[0])
	return start(channel, sender, text, reply_id, command, inbound, has_media, conv, expired_note)


def command_of(text: str, reply_id: str | None) -> str | None:
	if reply_id == "human":
		return "human"
	words = " ".join(text.upper().split()).strip(".!")
	for command, spellings in prompts()["commands"].items():
		if words in spellings:
			return command
	return None


def conversation_key(channel: str, address_hash: str) -> str:
	return f"{channel.lower()}:{address_hash}"


def find_conversation(channel: str, address_hash: str):
	name = frappe.db.get_value(CONVERSATION, {"conversation_key": conversation_key(channel, address_hash)})
	return frappe.get_doc(CONVERSATION, name, for_update=True) if name else None


def open_case_of(address_hash: str) -> tuple[str, str] | None:
	"""(case, handle) of the sender's newest open case; handles of a conversation without a case skipped."""
	for row in frappe.get_all(
		handles.HANDLE,
		filters={"address_hash": address_hash, "grievance": ["is", "set"]},
		fields=["name", "grievance"],
		order_by="creation desc",
	):
		if frappe.db.get_value("Grievance", row.grievance, "status") not in CLOSED_STATES:
			return row.grievance, row.name
	return None


def join(grievance: str, channel: str, text: str, inbound_message: str | None):
	conversation.record_inbound(grievance, channel, text, inbound_message)
	frappe.get_doc("Grievance", grievance).add_comment(
		"Info", _("The worker wrote again on {0}.").format(_(channel))
	)


# --- the conversation ---------------------------------------------------------------------------


def channel_of(channel: str) -> dict:
	"""The channel's entry of the prompts file: its settings DocType and whether it has buttons."""
	return prompts()["channels"].get(channel) or {"settings": None, "buttons": False}


def expiry_hours(channel: str = "WhatsApp") -> int:
	doctype = channel_of(channel)["settings"]
	value = frappe.db.get_single_value(doctype, "conversation_expiry_hours") if doctype else None
	return int(value) if value else int(prompts()["expiry_hours"])


def is_stale(conv) -> bool:
	last = conv.last_inbound_on or conv.modified
	return now_datetime() - get_datetime(last) > timedelta(hours=expiry_hours(conv.channel))


def answers_of(conv) -> dict:
	return json.loads(conv.answers or "{}")


def start(channel, sender, text, reply_id, command, inbound, has_media, conv, expired_note) -> Result:
	language = "en" if command == "en" else "id"
	contact = handles.create(None, None, sender.number, handles.PHONE)
	frappe.db.set_value(
		handles.HANDLE,
		contact,
		{"address_hash": sender.address_hash, "language": language, "channel_number": sender.channel_number},
	)
	values = {
		"channel": channel,
		"state": ACTIVE,
		"step": None,
		"language": language,
		"address_hash": sender.address_hash,
		"contact_handle": contact,
		"grievance": None,
		"first_inbound": inbound.name,
		"last_inbound_on": now_datetime(),
		"answers": json.dumps({"inbound": []}),
	}
	if conv:
		conv.update(values)
	else:
		conv = frappe.get_doc(
			{
				"doctype": CONVERSATION,
				"conversation_key": conversation_key(channel, sender.address_hash),
				**values,
			}
		)
	conv.flags.ignore_permissions = True
	if conv.is_new():
		conv.insert()
	else:
		conv.save()
	answers = answers_of(conv)
	record(conv, answers, text, inbound.name)
	queued = []
	if expired_note:
		queued.append(say(conv, "expired", expiry_hours(channel)))
	if command == "human":
		return open_case(conv, answers, sender, inbound, human=True, queued=queued)
	queued.append(say(conv, "welcome"))
	if command is None and (has_media or len(text.split()) >= 4):
		answers["what"] = text[:MAX_WHAT]
	return ask_next(conv, answers, sender, inbound, queued)


def record(conv, answers: dict, text: str, inbound_message: str):
	"""The worker's message in the conversation (no case yet: only the conversation holds it)."""
	name = conversation.record_inbound(None, conv.channel, text or _("(no text)"), inbound_message)
	frappe.db.set_value(
		conversation.CASE_MESSAGE,
		name,
		{"intake_conversation": conv.name, "contact_handle": conv.contact_handle},
	)
	answers.setdefault("inbound", []).append(inbound_message)
	conv.last_inbound_on = now_datetime()


def advance(conv, sender, text, reply_id, command, inbound, has_media) -> Result:
	answers = answers_of(conv)
	record(conv, answers, text, inbound.name)
	queued = []
	if command == "human":
		return open_case(conv, answers, sender, inbound, human=True, queued=queued)
	if command in LANGUAGES:
		conv.language = command
		frappe.db.set_value(handles.HANDLE, conv.contact_handle, "language", command)
		queued.append(say(conv, f"language_{command}"))
		return ask_next(conv, answers, sender, inbound, queued)
	step = conv.step
	if step == "workplace" and answers.get("workplace_search") and not answers.get("workplace_options"):
		found = matching_workplaces(receiving_union(sender), text)
		if len(found) == 1:
			answers["workplace_options"], answers["workplace"] = found, found[0]["id"]
		elif 1 < len(found) <= LISTED_WORKPLACES:
			answers["workplace_options"] = found
		else:
			answers["workplace"], answers["workplace_text"] = "wp0", text[:140]
		return ask_next(conv, answers, sender, inbound, queued)
	if step == "what":
		if has_media or len(text.split()) >= 2:
			answers["what"] = text[:MAX_WHAT]
		else:
			queued.append(say(conv, "too_short"))
		return ask_next(conv, answers, sender, inbound, queued)
	choice = choose(conv, answers, step, text, reply_id)
	if choice is None:
		if has_media or len(text.split()) >= 4:
			# more about what happened, written between the questions: kept with the rest
			answers["what"] = "\n".join(filter(None, [answers.get("what"), text]))[:MAX_WHAT]
		else:
			queued.append(say(conv, "not_understood"))
		return ask_next(conv, answers, sender, inbound, queued)
	if step == "workplace":
		answers["workplace"] = choice
	elif step == "anonymity":
		answers["anonymous"] = choice == "anonymous"
	elif step == "consent":
		if choice == "decline":
			return decline(conv, queued, inbound)
		answers["consent"] = {"version": answers.pop("consent_offered", None), "on": str(now_datetime())}
	elif step == "notices":
		answers["notices"] = choice == "yes"
	return ask_next(conv, answers, sender, inbound, queued)


def choose(conv, answers: dict, step: str | None, text: str, reply_id: str | None) -> str | None:
	"""The option the worker picked: by id, by number, by title in either language, by yes/no words."""
	options = step_options(conv, answers, step)
	ids = [option["id"] for option in options]
	if reply_id in ids:
		return reply_id
	typed = " ".join(text.upper().split()).strip(".!")
	if typed.isdecimal() and 1 <= int(typed) <= len(options):
		return ids[int(typed) - 1]
	for option in options:
		titles = {option["title"].upper(), in_language(option["title"], "id").upper()}
		if typed in titles:
			return option["id"]
	words = prompts()["answers"]
	yes_no = {"anonymity": (None, None), "consent": ("agree", "decline"), "notices": ("yes", "no")}
	yes, no = yes_no.get(step, (None, None))
	if yes and typed in words["yes"]:
		return yes
	if no and typed in words["no"]:
		return no
	return None


def step_options(conv, answers: dict, step: str | None) -> list[dict]:
	if step == "workplace":
		return [*answers.get("workplace_options", []), prompts()["other_workplace"]]
	if step in ("anonymity", "consent", "notices"):
		return prompts()["prompts"][step]["options"]
	return []


def workplaces(union: str) -> list[dict]:
	"""The workplace unions under the receiving union, for the worker to choose from."""
	bounds = frappe.db.get_value("Union", union, ["lft", "rgt", "level"], as_dict=True)
	if not bounds or bounds.level == "Workplace Union":
		return []
	rows = frappe.get_all(
		"Union",
		filters={"lft": [">", bounds.lft], "rgt": ["<", bounds.rgt], "level": "Workplace Union"},
		fields=["name", "union_name"],
		order_by="union_name asc",
		limit=MAX_WORKPLACES,
	)
	return [
		{"id": f"wp{position}", "title": row.union_name or row.name, "union": row.name}
		for position, row in enumerate(rows, 1)
	]


def matching_workplaces(union: str, typed: str) -> list[dict]:
	"""The workplaces whose name holds every word the worker typed (case-insensitive), renumbered."""
	words = [word for word in typed.lower().split() if len(word) > 1]
	if not words:
		return []
	found = [w for w in workplaces(union) if all(word in w["title"].lower() for word in words)]
	return [{**w, "id": f"wp{position}"} for position, w in enumerate(found, 1)]


def receiving_union(sender: Sender) -> str:
	union = sender.union or frappe.db.get_single_value("Intake Settings", "default_union")
	if not union:
		raise frappe.ValidationError("No intake union: set the Receiving Union in WhatsApp Settings")
	return union


def known_member(sender: Sender, union: str):
	member = matching.match_member(phone=sender.number)
	return member if matching.may_link(member, union) else None


def ask_next(conv, answers: dict, sender: Sender, inbound, queued: list) -> Result:
	"""Ask the first question not answered yet; with every answer in, open the case."""
	union = receiving_union(sender)
	for step in prompts()["steps"]:
		if step == "workplace" and "workplace" not in answers:
			if known_member(sender, union):
				continue
			if "workplace_options" not in answers:
				every = workplaces(union)
				if len(every) > LISTED_WORKPLACES:
					# too many for a list: the worker writes the name, then picks among the matches
					answers["workplace_search"], every = True, []
				answers["workplace_options"] = every
			if answers.get("workplace_search") and not answers["workplace_options"]:
				queued.append(say(conv, "workplace_search"))
			elif not answers["workplace_options"]:
				continue
			else:
				queued.append(ask(conv, "workplace", answers))
		elif step == "what" and not answers.get("what"):
			queued.append(say(conv, "what"))
		elif step == "anonymity" and "anonymous" not in answers:
			queued.append(ask(conv, "anonymity", answers))
		elif step == "consent" and "consent" not in answers:
			version = current_consent_text(conv.language) or current_consent_text("id")
			if not version:
				raise frappe.ValidationError("No Consent Text is in force: add one before intake")
			answers["consent_offered"] = version
			text = frappe.db.get_value(CONSENT_TEXT, version, "text")
			queued.append(say(conv, "consent_text", version, extra=text))
			queued.append(ask(conv, "consent", answers))
		elif step == "notices" and "notices" not in answers:
			queued.append(ask(conv, "notices", answers))
		else:
			continue
		conv.step = step
		save(conv, answers)
		return Result(prompts=queued)
	return open_case(conv, answers, sender, inbound, queued=queued)


def save(conv, answers: dict):
	conv.answers = json.dumps(answers, ensure_ascii=False)
	conv.flags.ignore_permissions = True
	conv.save()


def decline(conv, queued: list, inbound) -> Result:
	"""No consent: nothing of the report is kept; the worker is told so (then the number goes too)."""
	queued.append(say(conv, "declined"))
	forget(conv, DECLINED, keep=queued, current=inbound)
	return Result(prompts=queued)


def expire(conv, current=None):
	forget(conv, EXPIRED, current=current)


def forget(conv, state: str, keep=(), current=None):
	"""Delete what an unfinished conversation held: the worker's words, the prompts, the number.

	`keep`: messages still to be delivered (the last answer); their handle stays until they are sent
	and is then emptied by `expire_stale_conversations`.
	"""
	orphans = frappe.get_all(
		conversation.CASE_MESSAGE,
		filters={
			"intake_conversation": conv.name,
			"grievance": ["is", "not set"],
			"name": ["not in", list(keep) or [""]],
		},
		pluck="name",
	)
	if orphans:
		frappe.db.delete(conversation.CASE_MESSAGE, {"name": ["in", orphans]})
	# the raw messages too (the one being processed is saved by the inbox's job after this)
	emptied = encrypt("{}")
	for inbound_message in answers_of(conv).get("inbound", []):
		if current is not None and inbound_message == current.name:
			current.payload = emptied
		else:
			frappe.db.set_value(inbox.INBOUND, inbound_message, "payload", emptied, update_modified=False)
	if (
		conv.contact_handle
		and not keep
		and not frappe.db.get_value(handles.HANDLE, conv.contact_handle, "grievance")
	):
		delete_handle(conv.contact_handle)
		conv.contact_handle = None
	conv.update({"state": state, "step": None, "answers": None, "grievance": None})
	conv.flags.ignore_permissions = True
	conv.save()


def delete_handle(name: str):
	frappe.db.delete("__Auth", {"doctype": handles.HANDLE, "name": name})
	frappe.db.delete(handles.HANDLE, {"name": name})


def expire_stale_conversations():
	"""Scheduler (hourly): unfinished conversations past their time, and declined ones whose answer went,
	lose what they held."""
	for channel in prompts()["channels"]:
		cutoff = add_to_date(now_datetime(), hours=-expiry_hours(channel))
		for name in frappe.get_all(
			CONVERSATION,
			filters={"channel": channel, "state": ACTIVE, "last_inbound_on": ["<", cutoff]},
			pluck="name",
			limit=500,
		):
			expire(frappe.get_doc(CONVERSATION, name))
	for row in frappe.get_all(
		CONVERSATION,
		filters={"state": ["in", [EXPIRED, DECLINED]], "contact_handle": ["is", "set"]},
		fields=["name", "contact_handle"],
		limit=500,
	):
		pending = frappe.db.exists(
			conversation.CASE_MESSAGE,
			{"contact_handle": row.contact_handle, "delivery_status": ["in", [conversation.QUEUED]]},
		)
		if not pending and not frappe.db.get_value(handles.HANDLE, row.contact_handle, "grievance"):
			frappe.db.delete(
				conversation.CASE_MESSAGE,
				{"contact_handle": row.contact_handle, "grievance": ["is", "not set"]},
			)
			delete_handle(row.contact_handle)
			frappe.db.set_value(CONVERSATION, row.name, "contact_handle", None)
	frappe.db.commit()


# --- prompts ------------------------------------------------------------------------------------


def in_language(text: str, language: str) -> str:
	previous = getattr(frappe.local, "lang", None)
	frappe.local.lang = language
	try:
		return _(text)
	finally:
		frappe.local.lang = previous


def text_of(conv, entry: str | dict) -> str:
	"""A prompt's source text for the conversation's channel: the `short` one where it has no buttons."""
	if isinstance(entry, str):
		return entry
	return entry["text"] if channel_of(conv.channel)["buttons"] else entry.get("short") or entry["text"]


def say(conv, key: str, *args, extra: str | None = None) -> str:
	"""Queue a plain message of the prompts file, in the worker's language."""
	text = in_language(text_of(conv, prompts()["prompts"][key]), conv.language).format(*args)
	if extra:
		text = f"{text}\n\n{extra}"
	return queue(conv, text, None)


def ask(conv, key: str, answers: dict) -> str:
	"""Queue a question with its choices (and a way to a person as the last choice)."""
	entry = prompts()["prompts"][key]
	language = conv.language
	if key == "workplace":
		choices = [*answers["workplace_options"], prompts()["other_workplace"]]
		options = [
			{
				"id": choice["id"],
				"title": in_language(choice["title"], language) if choice["id"] == "wp0" else choice["title"],
				"description": in_language(choice.get("description") or "", language)
				if choice["id"] == "wp0"
				else "",
			}
			for choice in choices
		]
	else:
		options = [{"id": o["id"], "title": in_language(o["title"], language)} for o in entry["options"]]
	human = prompts()["human_option"]
	options.append({"id": human["id"], "title": in_language(human["title"], language)})
	kind = "buttons" if len(options) <= MAX_BUTTONS else "list"
	body = {"kind": kind, "options": options}
	if kind == "list":
		body["button"] = in_language(entry.get("button") or "Choose", language)
	return queue(conv, in_language(text_of(conv, entry), language), body)


def queue(conv, text: str, options: dict | None, purpose: str = PROMPT, grievance: str | None = None) -> str:
	doc = frappe.get_doc(
		{
			"doctype": conversation.CASE_MESSAGE,
			"grievance": grievance,
			"intake_conversation": conv.name,
			"direction": conversation.TO_WORKER,
			"channel": conv.channel,
			"content": text,
			"options": json.dumps(options, ensure_ascii=False) if options else None,
			"purpose": purpose,
			"contact_handle": conv.contact_handle,
			"delivery_status": conversation.QUEUED,
		}
	).insert(ignore_permissions=True)
	conversation.enqueue_delivery(doc.name)
	return doc.name


def as_text(content: str, options: str | dict | None) -> str:
	"""A prompt for a channel without buttons (SMS): the text, then one numbered line per choice."""
	if isinstance(options, str):
		options = json.loads(options)
	if not options:
		return content
	lines = [content, ""]
	human = prompts()["human_option"]["id"]
	for position, option in enumerate(options["options"], 1):
		number = "0" if option["id"] == human else str(position)
		lines.append(f"{number}. {option['title']}")
	return "\n".join(lines)


# --- opening the case ---------------------------------------------------------------------------


def code_for_key(dedup_key: str) -> str:
	"""The tracking code of a case a channel message opened, from the message's delivery key (the
	inbox's dedup key, e.g. `whatsapp:<wamid>`) and the site's key: the same every time, never stored."""
	key = hashlib.sha256(f"unioncase-intake:{get_encryption_key()}".encode()).digest()
	return tracking.code_from_secret(key, dedup_key)


def tracking_code(inbound_message: str) -> str:
	return code_for_key(frappe.db.get_value(inbox.INBOUND, inbound_message, "dedup_key"))


def open_case(conv, answers: dict, sender: Sender, inbound, human: bool = False, queued=None) -> Result:
	queued = queued if queued is not None else []
	union = receiving_union(sender)
	member = known_member(sender, union)
	workplace = None
	if member:
		workplace = member.workplace_union
	elif answers.get("workplace"):
		workplace = next(
			(o.get("union") for o in answers.get("workplace_options", []) if o["id"] == answers["workplace"]),
			None,
		)
	owner = workplace or union
	what = answers.get("what") or ""
	named = answers.get("anonymous") is False and answers.get("consent") and not human
	lines = []
	if answers.get("workplace_text"):
		lines.append(_("Workplace, as the worker wrote it: {0}").format(answers["workplace_text"]))
	elif answers.get("workplace") == "wp0":
		lines.append(_("The worker's workplace is not in the list: see their report."))
	if human:
		lines.append(_("The worker asked to talk to a person before the guided questions were finished."))
	lines.append(what or _("(nothing written yet)"))
	case = frappe.get_doc(
		{
			"doctype": "Grievance",
			"kind": "Complaint",
			"subject": subject_of(what) or _("Report by {0}").format(_(conv.channel)),
			"description": "".join(f"<p>{escape_html(line).replace(chr(10), '<br>')}</p>" for line in lines),
			"owning_union": owner,
			"workplace_union": owner
			if frappe.db.get_value("Union", owner, "level") == "Workplace Union"
			else None,
			"channel": conv.channel,
			"received_on": frappe.db.get_value(inbox.INBOUND, conv.first_inbound, "received_on")
			or now_datetime(),
			"is_anonymous": 0 if named else 1,
			"reporter_pseudonym": handles.pseudonym(conv.contact_handle, conv.channel),
		}
	)
	if named:
		# the worker chose to be named and agreed: their number is an identity field (custodians only)
		case.reporter_type = "Non-member"
		if member:
			case.reporter_type, case.member = "Member", member.name
		case.reporter_phone = sender.number
		if sender.name:
			case.reporter_name = str(sender.name)[:140]
	if answers.get("consent"):
		record_consent(case, answers["consent"]["version"], given_on=answers["consent"]["on"])
	case.insert(ignore_permissions=True)
	if human:
		case.add_comment("Info", _("The worker asked for a person: triage this case and answer them."))
	code = tracking_code(conv.first_inbound)
	frappe.db.set_value(
		handles.HANDLE,
		conv.contact_handle,
		{
			"grievance": case.name,
			"tracking_code_hash": tracking.code_hash(code),
			"stage_notices": 1 if answers.get("notices") else 0,
		},
	)
	# the exchange so far belongs to the case now (officials read it; it holds no number)
	frappe.db.set_value(
		conversation.CASE_MESSAGE,
		{"intake_conversation": conv.name, "grievance": ["is", "not set"]},
		"grievance",
		case.name,
	)
	inbound_messages = answers.get("inbound", [])
	for name in inbound_messages:
		if name != inbound.name:  # the one being processed: the inbox's job records its case
			frappe.db.set_value(
				inbox.INBOUND, name, {"grievance": case.name, "union": owner}, update_modified=False
			)
	if human:
		queued.append(
			queue(conv, in_language(prompts()["prompts"]["human"], conv.language), None, grievance=case.name)
		)
	ack = frappe.get_doc(
		{
			"doctype": conversation.CASE_MESSAGE,
			"grievance": case.name,
			"intake_conversation": conv.name,
			"direction": conversation.TO_WORKER,
			"channel": conv.channel,
			"content": _("Acknowledgement with the tracking code (the code is shown only to the worker)."),
			"purpose": ACKNOWLEDGEMENT,
			"contact_handle": conv.contact_handle,
			"inbound_message": conv.first_inbound,
			"delivery_status": conversation.QUEUED,
		}
	).insert(ignore_permissions=True)
	conversation.enqueue_delivery(ack.name)
	queued.append(ack.name)
	conv.update({"state": OPENED, "step": None, "grievance": case.name, "answers": None})
	conv.flags.ignore_permissions = True
	conv.save()
	return Result(grievance=case.name, opened=True, prompts=queued, inbound_messages=inbound_messages)


def subject_of(text: str) -> str:
	line = " ".join(text.split())
	return line if len(line) <= 80 else line[:79].rstrip() + "…"


def acknowledgement_text(doc) -> str:
	"""The acknowledgement, made when it is sent: the tracking code is never stored."""
	language = frappe.db.get_value(handles.HANDLE, doc.contact_handle, "language") or "id"
	code = tracking.display(tracking_code(doc.inbound_message))
	return in_language(
		"Your report was received by the union. Your tracking code is {0}. Keep it to yourself: with it "
		"you can follow your case on {1}. Reply here to add information.",
		language,
	).format(code, get_url(conversation.TRACKING_PATH))


# --- stage-change notices -----------------------------------------------------------------------


def notify_stage_change(doc, method=None):
	"""Grievance on_update: a short notice to a worker who asked for one when the case changes stage."""
	before = doc.get_doc_before_save()
	if not before or before.workflow_state == doc.workflow_state or not doc.workflow_state:
		return
	contact = frappe.db.get_value(
		handles.HANDLE,
		{"grievance": doc.name, "stage_notices": 1, "unreachable": 0},
		["name", "language"],
		as_dict=True,
	)
	if not contact:
		return
	channel = frappe.db.get_value(
		conversation.CASE_MESSAGE,
		{
			"grievance": doc.name,
			"direction": conversation.FROM_WORKER,
			"channel": ["in", list(conversation.SENDERS)],
		},
		"channel",
		order_by="creation desc",
	)
	if not channel:
		return
	language = contact.language or "id"
	stage = in_language(doc.workflow_state, language)
	message = frappe.get_doc(
		{
			"doctype": conversation.CASE_MESSAGE,
			"grievance": doc.name,
			"direction": conversation.TO_WORKER,
			"channel": channel,
			"content": in_language("Your case is now at the stage: {0}.", language).format(stage),
			"options": json.dumps({"stage": stage}, ensure_ascii=False),
			"purpose": STAGE_NOTICE,
			"contact_handle": contact.name,
			"delivery_status": conversation.QUEUED,
		}
	).insert(ignore_permissions=True)
	conversation.enqueue_delivery(message.name)


# --- a changed number ---------------------------------------------------------------------------


def move_number(channel: str, old_hash: str, new_number: str, new_hash: str) -> list[str]:
	"""The worker's number changed (WhatsApp `system` message): their handles and conversation follow."""
	moved = []
	for name in frappe.get_all(handles.HANDLE, filters={"address_hash": old_hash}, pluck="name"):
		doc = frappe.get_doc(handles.HANDLE, name)
		doc.address = new_number
		doc.address_hash = new_hash
		doc.save(ignore_permissions=True)
		moved.append(doc.grievance or name)
	conv = find_conversation(channel, old_hash)
	if conv and not find_conversation(channel, new_hash):
		conv.address_hash = new_hash
		conv.conversation_key = conversation_key(channel, new_hash)
		conv.flags.ignore_permissions = True
		conv.save()
	return moved
