"""The copies Frappe keeps of a case's or a worker's text outside the record, and how redaction reaches them.

A case's subject travels into notification subjects and emails (alerts, assignments, failed-mail
notices), an error trace quotes it, the search index and its Redis queue hold indexed text, a
rename leaves a comment, user defaults keep the old user name. The tables and columns are data
(copies.json). Two ways in:

- by reference (every redaction): rows that point at the redacted document (a notification about
  the case, its emails with their recipients and failure notices, the emails of its notifications,
  which Frappe queues without a reference (notification_emails), error logs, comments, ToDos), its
  search entry and queued search items. Where the case text goes (retention, erasure), those rows go
  (a ToDo keeps its assignment, without the text); on withdrawal, where the case text stays, the
  worker's identity strings are replaced in them.
- by value (erasure): the worker's identity strings (name, email, phone, national id, address; the
  website user's names and username) and the text of their cases are replaced in every copy column
  of copies.json, wherever the row points; an email, search entry or queued search item holding one
  is deleted. Strings shorter than MIN_NEEDLE characters are not searched for by value (a first
  name alone would rewrite other workers' rows); they still go by reference.

Replacements go through SQL REPLACE: the worker's email becomes the deletion request's anonymous
address (as Frappe renames it), everything else the redaction marker.
"""

import email
import html
import json
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import frappe
from frappe.utils import get_datetime, get_url_to_form, strip_html

COPIES = json.loads((Path(__file__).parent / "copies.json").read_text())
GLOBAL_SEARCH = "__global_search"
SEARCH_QUEUE = "global_search_queue"
# shorter identity strings are not searched for by value; case text shorter than MIN_TEXT neither
MIN_NEEDLE = 6
MIN_TEXT = 12
# a notification's email is queued in the same transaction as the notification (its after_insert)
NOTIFICATION_EMAIL_WINDOW = timedelta(hours=1)


def forms(value: str) -> set[str]:
	"""The spellings a copy may hold: as typed, without HTML, HTML-escaped, JSON-escaped."""
	value = str(value or "").strip()
	if not value:
		return set()
	variants = {value, strip_html(value).strip(), html.escape(value), html.escape(value, quote=False)}
	for variant in list(variants):
		variants.add(json.dumps(variant)[1:-1])
		variants.add(json.dumps(variant, ensure_ascii=False)[1:-1])
	digits = re.sub(r"\D", "", value)
	if len(digits) >= 8 and re.fullmatch(r"[\d\s()+\-.]+", value):
		variants.update(phone_forms(digits))
	return {variant for variant in variants if variant}


def phone_forms(digits: str) -> set[str]:
	"""A phone number as people write it: 0813-1234-5678, 0813 1234 5678, +62 813-1234-5678, 6281312345678."""
	national = digits[1:] if digits.startswith("0") else digits[2:] if digits.startswith("62") else digits
	forms = {digits, f"+{digits}", f"0{national}", f"62{national}", f"+62{national}"}
	head, middle, tail = national[:3], national[3:7], national[7:]
	for separator in ("-", " ", "."):
		grouped = separator.join(part for part in (head, middle, tail) if part)
		forms.update({f"0{grouped}", f"+62 {grouped}", f"+62{separator}{grouped}", f"62{separator}{grouped}"})
	return forms


def needles(values, replacement: str, minimum: int = MIN_NEEDLE) -> dict[str, str]:
	"""{spelling: replacement} for each value, longest first (a name inside an address goes after it)."""
	found = {}
	for value in values:
		for variant in forms(value):
			if len(variant) >= minimum:
				found[variant] = replacement
	return dict(sorted(found.items(), key=lambda item: -len(item[0])))


def forget_references(doctype: str, name: str, with_text: bool, identity: dict[str, str] | None = None):
	"""Rows that point at a redacted document: deleted with its text, else its identity replaced in them."""
	forget_in_search(doctype, name)
	for copy, (doctype_field, name_field) in COPIES["by_reference"].items():
		for row in frappe.get_all(copy, filters={doctype_field: doctype, name_field: name}, pluck="name"):
			forget_in_search(copy, row)  # a ToDo or comment is indexed with the text it quotes
	if not with_text:
		for copy, (doctype_field, name_field) in COPIES["by_reference"].items():
			filters = {doctype_field: doctype, name_field: name}
			replace_in(copy, COPIES["scrub_by_value"].get(copy, ()), identity or {}, filters)
		# an email about the document to or naming the worker would still tie them to it
		emails = rows_holding(
			"Email Queue",
			COPIES["delete_by_value"]["Email Queue"],
			identity or {},
			{"reference_doctype": doctype, "reference_name": name},
		)
		for queued in notification_emails(doctype, name):
			emails += rows_holding(
				"Email Queue", COPIES["delete_by_value"]["Email Queue"], identity or {}, {"name": queued}
			)
		recipients = frappe.get_all(
			"Email Queue Recipient",
			filters={"recipient": ["in", list(identity or {}) or [""]]},
			pluck="parent",
		)
		referring = frappe.get_all(
			"Email Queue",
			filters={
				"name": ["in", recipients or [""]],
				"reference_doctype": doctype,
				"reference_name": name,
			},
			pluck="name",
		)
		delete_emails(sorted({*emails, *referring}))
		return
	emails = frappe.get_all(
		"Email Queue", filters={"reference_doctype": doctype, "reference_name": name}, pluck="name"
	)
	delete_emails(sorted({*emails, *notification_emails(doctype, name)}))
	for copy, (doctype_field, name_field) in COPIES["by_reference"].items():
		filters = {doctype_field: doctype, name_field: name}
		if copy == "Comment":
			continue  # comments on the document go with delete_comments (a retention setting)
		if copy == "ToDo":  # the assignment stays (who worked the case), its text goes
			rows = frappe.get_all(copy, filters=filters, pluck="name")
			if rows:
				frappe.db.set_value(
					copy, {"name": ["in", rows]}, "description", redaction_marker(), update_modified=False
				)
		else:
			frappe.db.delete(copy, filters)


def notification_emails(doctype: str, name: str) -> list[str]:
	"""The emails Frappe queued for the document's notifications ("assigned a new task", alerts): queued
	without a reference (Notification Log send_notification_email), they quote its subject.

	One is the email to the notification's user, queued with it, without a reference, whose decoded body
	(quoted-printable or base64 in the MIME message) links to the document: the link is the one stable
	thing Frappe puts in it (its subject and header are translated text)."""
	found = set()
	notifications = frappe.get_all(
		"Notification Log",
		filters={"document_type": doctype, "document_name": name},
		fields=["for_user", "link", "creation"],
	)
	for notification in notifications:
		recipient = frappe.db.get_value("User", notification.for_user, "email")
		if not recipient:
			continue
		link = notification.link or urlparse(get_url_to_form(doctype, name)).path
		created = get_datetime(notification.creation)
		queue, to = frappe.qb.DocType("Email Queue"), frappe.qb.DocType("Email Queue Recipient")
		candidates = (
			frappe.qb.from_(queue)
			.join(to)
			.on(to.parent == queue.name)
			.select(queue.name, queue.message)
			.where(to.recipient == recipient)
			.where(queue.reference_name.isnull() | (queue.reference_name == ""))
			.where(queue.creation >= created - NOTIFICATION_EMAIL_WINDOW)
			.where(queue.creation <= created + NOTIFICATION_EMAIL_WINDOW)
			.run()
		)
		found.update(queued for queued, message in candidates if link in email_text(message))
	return sorted(found)


def email_text(message: str | None) -> str:
	"""The decoded text of a queued MIME message's parts (links as written, not as transfer-encoded)."""
	if not message:
		return ""
	texts = []
	for part in email.message_from_string(message).walk():
		if part.get_content_maintype() != "text":
			continue
		payload = part.get_payload(decode=True) or b""
		texts.append(html.unescape(payload.decode(part.get_content_charset() or "utf-8", errors="replace")))
	return "\n".join(texts)


def delete_emails(names: list[str]):
	"""Queued or sent emails, their recipients, and the failure notices and traces that quote them."""
	if not names:
		return
	names = ["in", list(names)]
	frappe.db.delete("Email Queue Recipient", {"parent": names})
	frappe.db.delete("Notification Log", {"document_type": "Email Queue", "document_name": names})
	frappe.db.delete("Error Log", {"reference_doctype": "Email Queue", "reference_name": names})
	frappe.db.delete("Email Queue", {"name": names})


def forget_in_search(doctype: str, name: str):
	"""The search index entry and any queued update of it (the next sync would add it back)."""
	frappe.db.delete(GLOBAL_SEARCH, {"doctype": doctype, "name": name})
	drop_queued_search_items(lambda item: (item.get("doctype"), item.get("name")) == (doctype, name))


def drop_queued_search_items(matches) -> int:
	key = frappe.cache.make_key(SEARCH_QUEUE)
	dropped = 0
	for raw in frappe.cache.lrange(SEARCH_QUEUE, 0, -1) or []:
		try:
			item = json.loads(raw)
		except ValueError:
			continue
		if matches(item):
			dropped += redis_lrem(key, raw)
	return dropped


def redis_lrem(key: str, value) -> int:
	# RedisWrapper keeps redis.Redis's own lrem, which takes the full key
	return frappe.cache.lrem(key, 0, value) or 0


def forget_values(replacements: dict[str, str], skip=()) -> dict:
	"""Erasure: every copy column of copies.json (but `skip`), the search index and its queue, by value."""
	if not replacements:
		return {}
	replacements = dict(sorted(replacements.items(), key=lambda item: -len(item[0])))
	counts = {}
	for copy, columns in COPIES["scrub_by_value"].items():
		if copy not in skip:
			counts[copy] = replace_in(copy, columns, replacements)
	emails = set()
	for copy, columns in COPIES["delete_by_value"].items():
		rows = rows_holding(copy, columns, replacements)
		if copy == "Email Queue":
			emails.update(rows)
		elif copy == "Email Queue Recipient":
			emails.update(frappe.get_all(copy, filters={"name": ["in", rows or [""]]}, pluck="parent"))
		elif rows and copy == GLOBAL_SEARCH:
			for row in rows:
				frappe.db.delete(GLOBAL_SEARCH, {"doctype": row[0], "name": row[1]})
	delete_emails(sorted(emails))
	counts["Email Queue"] = len(emails)
	text = list(replacements)
	counts["search_queue"] = drop_queued_search_items(
		lambda item: (
			any(needle in json.dumps(item, ensure_ascii=False) for needle in text)
			or any(needle in json.dumps(item) for needle in text)
		)
	)
	return counts


def table_columns(doctype: str, columns) -> tuple[str, list[str]]:
	"""The table and those of `columns` it has (a copy doctype may be missing on an older Frappe)."""
	if doctype == GLOBAL_SEARCH:
		return GLOBAL_SEARCH, list(columns)
	if not frappe.db.table_exists(doctype):
		return f"tab{doctype}", []
	existing = set(frappe.db.get_table_columns(doctype))
	return f"tab{doctype}", [column for column in columns if column in existing]


def where_holding(columns: list[str], replacements: dict[str, str]) -> tuple[str, dict]:
	values, conditions = {}, []
	for number, needle in enumerate(replacements):
		values[f"n{number}"] = f"%{escape_like(needle)}%"
		conditions += [f"`{column}` like %(n{number})s" for column in columns]
	return " or ".join(conditions), values


def rows_holding(doctype: str, columns, replacements: dict[str, str], filters: dict | None = None) -> list:
	table, columns = table_columns(doctype, columns)
	if not columns or not replacements:
		return []
	where, values = where_holding(columns, replacements)
	where = f"({where}){scope(filters, values)}"
	if doctype == GLOBAL_SEARCH:
		return frappe.db.sql(f"select doctype, name from `{table}` where {where}", values)
	return [row[0] for row in frappe.db.sql(f"select name from `{table}` where {where}", values)]


def scope(filters: dict | None, values: dict) -> str:
	"""`and field = value` for each filter, its values added to `values`."""
	condition = ""
	for number, (field, value) in enumerate((filters or {}).items()):
		values[f"f{number}"] = value
		condition += f" and `{field}` = %(f{number})s"
	return condition


def replace_in(doctype: str, columns, replacements: dict[str, str], filters: dict | None = None) -> int:
	"""REPLACE each needle in `columns` of the rows holding one (and matching `filters`)."""
	table, columns = table_columns(doctype, columns)
	if not columns or not replacements:
		return 0
	where, values = where_holding(columns, replacements)
	assignments = []
	for column in columns:
		expression = f"`{column}`"
		for number, (needle, replacement) in enumerate(replacements.items()):
			values[f"r{number}"], values[f"s{number}"] = needle, replacement
			expression = f"replace({expression}, %(r{number})s, %(s{number})s)"
		assignments.append(f"`{column}` = {expression}")
	frappe.db.sql(
		f"update `{table}` set {', '.join(assignments)} where ({where}){scope(filters, values)}", values
	)
	return frappe.db._cursor.rowcount if getattr(frappe.db, "_cursor", None) else 0


def escape_like(value: str) -> str:
	return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def redaction_marker() -> str:
	from unioncase.privacy.redaction import redaction_marker

	return redaction_marker()
