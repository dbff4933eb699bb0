"""Property-based tests (hypothesis) of the WhatsApp webhook, over real HTTP against the live test server:
generated notification bodies (valid and malformed structures, odd numbers and ids, wrong types where
lists or objects belong, bare JSON scalars, truncated bodies), sent signed, unsigned or forged, once or
twice (the provider retries). Never a 5xx (nor the framework's 417) for a signed body; never a stored
record for an unsigned or forged one; every message and status of an accepted body stored exactly once
(by its wamid), and processed without a failure; delivery statuses that arrive out of order never move
a message's status back.

The number of examples comes from the settings profile: UNIONCASE_HYPOTHESIS_PROFILE=thorough runs
thousands (the default "ci" profile runs a little over a hundred per property)."""

import hashlib
import hmac
import json
import os
import secrets

import frappe
import requests
from frappe.utils.background_jobs import get_queue
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from unioncase.compat import IntegrationTestCase
from unioncase.intake import conversation, inbox, whatsapp
from unioncase.tests.hierarchy_data import ensure_hierarchy
from unioncase.tests.rest_client import server_url

BOGOR = "T PUK Bogor Satu"
APP_SECRET = "t-app-secret-" + "x" * 20
WEBHOOK = "/api/method/unioncase.intake.whatsapp.webhook"
OBJECT = "whatsapp_business_account"

settings.register_profile(
	"ci", max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
settings.register_profile(
	"thorough", max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck)
)
PROFILE = settings.get_profile(os.environ.get("UNIONCASE_HYPOTHESIS_PROFILE", "ci"))

ODD_NUMBERS = st.one_of(
	st.sampled_from(
		[
			"6281234567890",
			"+62 812-3456-7890",
			"0812 3456 7890",
			"62-812-3456",
			"",
			"abc",
			"٦٢٨١٢٣٤٥٦٧٨٩",
			"6" * 40,
			"+",
			"62\u202e812",
		]
	),
	st.integers(min_value=-(10**30), max_value=10**30),
	st.floats(allow_nan=False),
	st.none(),
	st.lists(st.integers(), max_size=2),
)
SCALARS = st.one_of(
	st.none(), st.booleans(), st.integers(min_value=-(10**40), max_value=10**40), st.text(max_size=20)
)
KINDS = st.sampled_from(
	[
		"text",
		"image",
		"document",
		"audio",
		"location",
		"interactive",
		"button",
		"reaction",
		"sticker",
		"system",
		"?",
	]
)


def part_of(kind: str, draw) -> object:
	return draw(
		st.one_of(
			st.fixed_dictionaries(
				{
					"body": st.text(max_size=40),
					"emoji": st.sampled_from(["👍", "", "😡"]),
					"latitude": st.floats(allow_nan=False, allow_infinity=False),
					"longitude": st.integers(),
					"caption": st.text(max_size=10),
					"button_reply": st.fixed_dictionaries({"id": st.text(max_size=5), "title": SCALARS}),
				}
			),
			SCALARS,
			st.lists(SCALARS, max_size=2),
		)
	)


@st.composite
def messages(draw, ids) -> dict:
	kind = draw(KINDS)
	message = {"from": draw(ODD_NUMBERS), "id": draw(ids), "timestamp": draw(SCALARS), "type": kind}
	message[kind] = part_of(kind, draw)
	if draw(st.booleans()):
		message.pop(draw(st.sampled_from(["from", "id", "timestamp", "type"])))
	return message


@st.composite
def statuses(draw, ids) -> dict:
	return {
		"id": draw(ids),
		"status": draw(st.sampled_from(["sent", "delivered", "read", "failed", "deleted", None, 3])),
		"timestamp": draw(SCALARS),
		"recipient_id": draw(ODD_NUMBERS),
	}


def a_list_or_not(draw, items):
	"""Usually a list, sometimes what a malformed body holds there instead."""
	return draw(
		st.one_of(
			st.lists(items, max_size=3),
			st.just([]),
			SCALARS,
			st.dictionaries(st.text(max_size=3), SCALARS, max_size=2),
		)
	)


@st.composite
def notifications(draw):
	"""(the body as sent, its raw bytes, whether it is JSON at all)."""
	run = secrets.token_hex(4)
	ids = st.one_of(
		st.sampled_from([f"wamid.H{run}.{n}" for n in range(4)]),  # repeats inside the body
		st.just(f"wamid.L{run}." + "x" * 200),  # longer than the key's column
		st.integers(),
		st.none(),
	)
	value = {
		"messaging_product": "whatsapp",
		"metadata": draw(st.one_of(st.just({"phone_number_id": "1"}), SCALARS)),
		"contacts": a_list_or_not(draw, st.fixed_dictionaries({"wa_id": ODD_NUMBERS})),
		"messages": a_list_or_not(draw, messages(ids)),
		"statuses": a_list_or_not(draw, statuses(ids)),
	}
	change = draw(
		st.one_of(st.just({"field": "messages", "value": value}), SCALARS, st.just({"value": None}))
	)
	entry = {"id": "WABA", "changes": a_list_or_not(draw, st.just(change))}
	body = {
		"object": draw(st.sampled_from([OBJECT, OBJECT, "page", None])),
		"entry": a_list_or_not(draw, st.just(entry)),
	}
	shape = draw(st.sampled_from(["body", "body", "body", "scalar", "array", "truncated", "not utf-8"]))
	if shape == "scalar":
		body = draw(SCALARS)
	elif shape == "array":
		body = [body]
	raw = json.dumps(body).encode()
	if shape == "truncated":
		raw = raw[: draw(st.integers(0, max(0, len(raw) - 1)))]
	elif shape == "not utf-8":
		raw = b'{"object": "' + OBJECT.encode() + b'", "entry": "\xff\xfe"}'
	try:
		json.loads(raw)
		is_json = True
	except ValueError:
		is_json = False
	return body, raw, is_json


def expected_keys(body) -> set[str]:
	"""The delivery keys an accepted body stores, as the Cloud API's documented shape defines them."""
	keys = set()
	if not (isinstance(body, dict) and body.get("object") == OBJECT):
		return keys
	for entry in body.get("entry") if isinstance(body.get("entry"), list) else []:
		changes = entry.get("changes") if isinstance(entry, dict) else None
		for change in changes if isinstance(changes, list) else []:
			value = change.get("value") if isinstance(change, dict) else None
			if not isinstance(value, dict):
				continue
			for message in value.get("messages") if isinstance(value.get("messages"), list) else []:
				if isinstance(message, dict) and isinstance(message.get("id"), str):
					keys.add(inbox.delivery_key_of("WhatsApp", message["id"]))
			for status in value.get("statuses") if isinstance(value.get("statuses"), list) else []:
				if isinstance(status, dict) and isinstance(status.get("id"), str):
					keys.add(
						inbox.delivery_key_of("WhatsApp", f"status:{status['id']}:{status.get('status')}")
					)
	return keys


def post(raw: bytes, signature: str | None):
	headers = {"Content-Type": "application/json"}
	if signature:
		headers["X-Hub-Signature-256"] = signature
	return requests.post(f"{server_url()}{WEBHOOK}", data=raw, headers=headers, timeout=60)


def sign(raw: bytes, secret: str = APP_SECRET) -> str:
	return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


class TestWebhookProperties(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		doc = frappe.get_single(whatsapp.SETTINGS)
		doc.update(
			{
				"enabled": 1,
				"phone_number_id": "109876543210",
				"graph_url": "http://127.0.0.1:9/v20.0",  # nothing listens: acknowledgements are not sent here
				"default_union": BOGOR,
				"app_secret": APP_SECRET,
				"access_token": "t-access-token",
			}
		)
		doc.save(ignore_permissions=True)
		frappe.db.commit()

	def setUp(self):
		get_queue(inbox.QUEUE).empty()  # no worker serves the test site

	def count(self) -> int:
		frappe.db.commit()  # a new snapshot: what the server committed
		return frappe.db.count(inbox.INBOUND)

	@PROFILE
	@given(
		notification=notifications(),
		how=st.sampled_from(["signed", "signed", "signed", "unsigned", "forged", "tampered"]),
		sends=st.integers(1, 2),
	)
	def test_a_signed_body_is_never_a_server_error_and_an_unsigned_one_stores_nothing(
		self, notification, how, sends
	):
		body, raw, is_json = notification
		get_queue(inbox.QUEUE).empty()
		before = self.count()
		keys = (expected_keys(body) if is_json else set()) or {
			inbox.delivery_key_of("WhatsApp", "body:" + hashlib.sha256(raw).hexdigest())
		}
		# the same bytes (an empty entry list, say) may have been stored by an earlier example
		earlier = frappe.db.count(inbox.INBOUND, {"dedup_key": ["in", list(keys)]})
		signature = {
			"signed": sign(raw),
			"unsigned": None,
			"forged": sign(raw, "bukan-rahasia"),
			"tampered": sign(raw + b" "),
		}[how]
		answers = [post(raw, signature) for _ in range(sends)]
		statuses = {answer.status_code for answer in answers}
		event(f"{how} {sorted(statuses)}")
		self.assertEqual(len(statuses), 1, "the same body sent again gets the same answer")
		(status,) = statuses
		if how != "signed":
			self.assertEqual(status, 401 if how == "unsigned" else 403, answers[0].text[:200])
			self.assertEqual(self.count(), before, "an unsigned or forged body stores nothing")
			return
		if not is_json:
			self.assertEqual(status, 400, answers[0].text[:200])
			self.assertIn("not valid JSON", answers[0].json()["message"])
			self.assertEqual(self.count(), before, "a body that cannot be read is not kept")
			return
		self.assertEqual(status, 200, answers[0].text[:300])
		frappe.db.commit()  # a new snapshot: what the server committed
		stored = frappe.get_all(
			inbox.INBOUND, filters={"dedup_key": ["in", list(keys)]}, fields=["name", "dedup_key"]
		)
		self.assertEqual(sorted(row.dedup_key for row in stored), sorted(keys), "each stored exactly once")
		self.assertEqual(self.count(), before + len(keys) - earlier, "and nothing else")
		for row in stored:
			self.assertIn(inbox.process_message(row.name), ("Processed", "Ignored"), row.dedup_key)
			frappe.db.commit()

	@PROFILE
	@given(
		order=st.lists(st.sampled_from(["sent", "delivered", "read"]), min_size=1, max_size=5),
		split=st.booleans(),
	)
	def test_statuses_out_of_order_never_move_a_delivery_back(self, order, split):
		get_queue(inbox.QUEUE).empty()
		wamid = "wamid.OUT" + secrets.token_hex(8)
		case = frappe.get_all("Grievance", filters={"owning_union": BOGOR}, pluck="name", limit=1)
		if not case:
			case = [inbox.open_anonymous_case(BOGOR, "WhatsApp", "Uji status", "Uji status.", None).name]
		message = frappe.get_doc(
			{
				"doctype": conversation.CASE_MESSAGE,
				"grievance": case[0],
				"direction": conversation.TO_WORKER,
				"channel": "WhatsApp",
				"content": "Balasan uji.",
				"delivery_status": "Sent",
				"provider_message_id": wamid,
			}
		).insert(ignore_permissions=True)
		frappe.db.commit()
		callbacks = [{"id": wamid, "status": name, "timestamp": "1764750100"} for name in order]
		bodies = [callbacks[i : i + 1] for i in range(len(callbacks))] if split else [callbacks]
		for statuses_ in bodies:
			value = {"messaging_product": "whatsapp", "statuses": statuses_}
			raw = json.dumps(
				{"object": OBJECT, "entry": [{"changes": [{"field": "messages", "value": value}]}]}
			).encode()
			self.assertEqual(post(raw, sign(raw)).status_code, 200)
		frappe.db.commit()
		for name in dict.fromkeys(order):
			stored = frappe.db.get_value(inbox.INBOUND, {"dedup_key": f"whatsapp:status:{wamid}:{name}"})
			self.assertTrue(stored, f"the {name} callback is stored once")
			self.assertEqual(inbox.process_message(stored), "Processed")
			frappe.db.commit()
		rank = {"Sent": 1, "Delivered": 2, "Read": 3}
		final = frappe.db.get_value(
			conversation.CASE_MESSAGE, message.name, ["delivery_status", "read_on"], as_dict=True
		)
		self.assertEqual(final.delivery_status, max((name.title() for name in order), key=rank.get))
		self.assertEqual(bool(final.read_on), "read" in order)
