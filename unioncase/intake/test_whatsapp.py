"""WhatsApp: real signed bodies posted over HTTP to the running site, and a stand-in Cloud API on
loopback (a real HTTP server that records what it is sent and answers as the provider does)."""

import hashlib
import hmac
import json
import os
import secrets
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import frappe
import requests
from frappe.utils import now_datetime
from frappe.utils.password import get_decrypted_password
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unioncase.compat import IntegrationTestCase
from unioncase.intake import conversation, handle, inbox, tracking, whatsapp
from unioncase.tests.hierarchy_data import ensure_hierarchy, make_official
from unioncase.tests.intake_data import PNG
from unioncase.tests.rest_client import RestSession, server_url

BOGOR = "T PUK Bogor Satu"
BOGOR_BRANCH = "t.branch.bogor@test.unioncase.org"
APP_SECRET = "t-app-secret-" + "x" * 20
VERIFY_TOKEN = "t-verify-token"
ACCESS_TOKEN = "t-access-token-EAAG"
PHONE_NUMBER_ID = "109876543210"
# beside this checkout's test server (8011 + 50 by default), so two checkouts' tests never share one
WEBHOOK = "/api/method/unioncase.intake.whatsapp.webhook"


class Provider:
	"""The Cloud API on loopback: messages and media endpoints, answers scripted per test."""

	def __init__(self, port: int = 0):
		"""On `port`, by default a free one: checkouts and benches test side by side."""
		self.requests, self.answers, self.media = [], [], {}
		provider = self

		class Handler(BaseHTTPRequestHandler):
			def log_message(self, *args):
				pass

			def reply(self, status: int, body, content_type="application/json"):
				data = body if isinstance(body, bytes) else json.dumps(body).encode()
				self.send_response(status)
				self.send_header("Content-Type", content_type)
				self.send_header("Content-Length", str(len(data)))
				self.end_headers()
				self.wfile.write(data)

			def do_POST(self):
				length = int(self.headers.get("Content-Length") or 0)
				body = json.loads(self.rfile.read(length) or b"{}")
				provider.requests.append(
					{"path": self.path, "authorization": self.headers.get("Authorization"), "json": body}
				)
				if provider.answers:
					status, answer = provider.answers.pop(0)
					return self.reply(status, answer)
				wamid = "wamid.OUT" + secrets.token_hex(8)
				self.reply(
					200,
					{
						"messaging_product": "whatsapp",
						"contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
						"messages": [{"id": wamid}],
					},
				)

			def do_GET(self):
				provider.requests.append(
					{"path": self.path, "authorization": self.headers.get("Authorization")}
				)
				media_id = self.path.rsplit("/", 1)[-1]
				if self.path.startswith("/files/") and media_id in provider.media:
					return self.reply(200, provider.media[media_id], "application/octet-stream")
				if media_id in provider.media:
					return self.reply(
						200, {"url": f"http://127.0.0.1:{provider.port}/files/{media_id}", "id": media_id}
					)
				self.reply(404, {"error": {"message": "Unsupported get request", "code": 100}})

		self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
		self.port = self.server.server_address[1]
		self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
		self.thread.start()
		self.url = f"http://127.0.0.1:{self.port}/v20.0"

	def sent(self) -> list[dict]:
		return [request for request in self.requests if request["path"].endswith("/messages")]

	def media_requests(self) -> list[str]:
		"""The media ids whose metadata was asked for (each download starts with one)."""
		return [
			r["path"].rsplit("/", 1)[-1]
			for r in self.requests
			if "json" not in r and "/files/" not in r["path"]
		]

	def stop(self):
		self.server.shutdown()
		self.server.server_close()


def new_number() -> str:
	return "6281234" + "".join(secrets.choice("0123456789") for _ in range(4))


def text_message(number: str, text: str, wamid: str | None = None, kind: str = "text", **part) -> dict:
	message = {
		"from": number,
		"id": wamid or "wamid.IN" + secrets.token_hex(10),
		"timestamp": "1764750000",
		"type": kind,
	}
	message[kind] = part or {"body": text}
	return message


def body_of(messages=(), statuses=(), entries: int = 1) -> dict:
	value = {
		"messaging_product": "whatsapp",
		"metadata": {"display_phone_number": "6281100000000", "phone_number_id": PHONE_NUMBER_ID},
	}
	if messages:
		value["contacts"] = [{"profile": {"name": "Pekerja"}, "wa_id": m["from"]} for m in messages]
		value["messages"] = list(messages)
	if statuses:
		value["statuses"] = list(statuses)
	return {
		"object": "whatsapp_business_account",
		"entry": [
			{"id": "WABA1", "changes": [{"field": "messages", "value": value}]} for _ in range(entries)
		],
	}


def post_signed(body, secret: str = APP_SECRET, signature: str | None = None, raw: bytes | None = None):
	data = raw if raw is not None else json.dumps(body).encode()
	headers = {"Content-Type": "application/json"}
	if signature is None:
		signature = "sha256=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
	if signature:
		headers["X-Hub-Signature-256"] = signature
	answer = requests.post(f"{server_url()}{WEBHOOK}", data=data, headers=headers, timeout=60)
	frappe.db.commit()  # end this connection's snapshot: what the server stored becomes visible
	return answer


def inbound_for(wamid: str):
	return frappe.db.get_value(
		inbox.INBOUND, {"dedup_key": f"whatsapp:{wamid}"}, ["name", "state", "grievance"], as_dict=True
	)


def run_inbox(wamid: str):
	stored = inbound_for(wamid)
	inbox.process_message(stored.name)
	return inbound_for(wamid)


def deliver_queued(grievance: str) -> list[str]:
	queued = frappe.get_all(
		conversation.CASE_MESSAGE,
		filters={"grievance": grievance, "delivery_status": ["in", ["Queued", "Failed"]]},
		pluck="name",
	)
	return [conversation.deliver(name) for name in queued]


class TestWhatsApp(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		make_official(BOGOR_BRANCH, "Branch Official", "T Cabang Bogor")
		cls.provider = Provider()
		settings = frappe.get_single(whatsapp.SETTINGS)
		settings.update(
			{
				"enabled": 1,
				# the channel's own mechanics: a first message opens a case at once (test_guided.py
				# covers the guided first contact)
				"guided_intake": 0,
				"phone_number_id": PHONE_NUMBER_ID,
				"graph_url": cls.provider.url,
				"default_union": BOGOR,
				"access_token": ACCESS_TOKEN,
				"app_secret": APP_SECRET,
				"verify_token": VERIFY_TOKEN,
				"reply_template": None,
			}
		)
		settings.save(ignore_permissions=True)
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		cls.provider.stop()
		super().tearDownClass()

	def setUp(self):
		self.provider.requests.clear()
		self.provider.answers.clear()

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.set_single_value(whatsapp.SETTINGS, "reply_template", None)
		frappe.db.commit()

	def open_case(self, number: str, text: str = "Upah lembur bulan ini belum dibayar sama sekali."):
		message = text_message(number, text)
		self.assertEqual(post_signed(body_of([message])).status_code, 200)
		stored = run_inbox(message["id"])
		self.assertEqual(stored.state, "Processed")
		return stored.grievance, message

	def test_the_verification_handshake_echoes_the_challenge_only_for_the_right_token(self):
		url = f"{server_url()}{WEBHOOK}"
		params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
		answer = requests.get(url, params=params, timeout=30)
		self.assertEqual((answer.status_code, answer.text), (200, "1158201444"))
		wrong = requests.get(url, params={**params, "hub.verify_token": "tebakan"}, timeout=30)
		self.assertEqual(wrong.status_code, 403)
		self.assertNotIn("1158201444", wrong.text)

	def test_unsigned_and_forged_bodies_are_refused_counted_and_store_nothing(self):
		before, counted = frappe.db.count(inbox.INBOUND), whatsapp.rejected_today()
		message = text_message(new_number(), "Saya dipecat tanpa surat.")
		body = body_of([message])
		unsigned = post_signed(body, signature="")
		forged = post_signed(body, secret="bukan-rahasia-aplikasi")
		tampered_raw = json.dumps(body).encode()
		good_signature = "sha256=" + hmac.new(APP_SECRET.encode(), tampered_raw, hashlib.sha256).hexdigest()
		tampered = post_signed(
			None, signature=good_signature, raw=tampered_raw.replace(b"dipecat", b"dipecut")
		)
		self.assertEqual((unsigned.status_code, forged.status_code, tampered.status_code), (401, 403, 403))
		self.assertIn("X-Hub-Signature-256", unsigned.json()["message"])
		self.assertEqual(frappe.db.count(inbox.INBOUND), before, "nothing stored")
		self.assertIsNone(inbound_for(message["id"]))
		self.assertEqual(whatsapp.rejected_today(), counted + 3)

	def test_a_signed_text_opens_a_case_and_the_worker_gets_the_tracking_code(self):
		number = new_number()
		message = text_message(number, "Upah lembur bulan Oktober tidak dibayar di PT Sinar Garmen.")
		self.assertEqual(post_signed(body_of([message])).status_code, 200)
		# the provider delivers it again: still one record
		self.assertEqual(post_signed(body_of([message])).status_code, 200)
		self.assertEqual(frappe.db.count(inbox.INBOUND, {"dedup_key": f"whatsapp:{message['id']}"}), 1)
		stored = inbound_for(message["id"])
		self.assertEqual(stored.state, "Received")
		self.assertNotIn(number, frappe.db.get_value(inbox.INBOUND, stored.name, "payload"))

		stored = run_inbox(message["id"])
		case = frappe.get_doc("Grievance", stored.grievance)
		self.assertEqual((case.owning_union, case.channel, case.is_anonymous), (BOGOR, "WhatsApp", 1))
		self.assertIn("Upah lembur bulan Oktober", case.description)
		self.assertFalse(case.reporter_phone)
		self.assertNotIn(number[2:], json.dumps(case.as_dict(), default=str), "the number is not on the case")
		contact = handle.for_case(case.name)
		self.assertEqual(contact.address_kind, "Phone")
		self.assertEqual(handle.resolve(contact.name), f"+{number}")

		self.assertEqual(deliver_queued(case.name), ["Sent"])
		(sent,) = self.provider.sent()
		self.assertEqual(sent["path"], f"/v20.0/{PHONE_NUMBER_ID}/messages")
		self.assertEqual(sent["authorization"], f"Bearer {ACCESS_TOKEN}")
		self.assertEqual((sent["json"]["to"], sent["json"]["type"]), (number, "text"))
		code = tracking.display(whatsapp.tracking_code(message["id"]))
		self.assertIn(code, sent["json"]["text"]["body"])
		self.assertIn("Kode pelacakan Anda", sent["json"]["text"]["body"], "in Bahasa Indonesia")
		self.assertEqual(handle.case_for_code_hash(tracking.code_hash(tracking.normalise(code))), case.name)
		ack = frappe.get_all(
			"Case Message",
			filters={"grievance": case.name, "direction": "To Worker"},
			fields=["content", "provider_message_id", "delivery_status"],
		)
		self.assertEqual(len(ack), 1)
		self.assertNotIn(code, ack[0].content, "officials never read the worker's code")
		self.assertTrue(ack[0].provider_message_id.startswith("wamid.OUT"))

		# a follow-up from the same number joins the open case
		again, _message = self.open_case(number, "Ini slip gaji saya, lembur tidak tercatat.")
		self.assertEqual(again, case.name)
		self.assertEqual(
			frappe.db.count("Case Message", {"grievance": case.name, "direction": "From Worker"}), 2
		)
		self.assertEqual(frappe.db.count("Grievance", {"name": case.name}), 1)

	def test_a_batch_is_split_into_one_record_per_message_and_unknown_types_are_ignored(self):
		numbers = [new_number(), new_number()]
		messages = [
			text_message(number, f"Keluhan nomor {position} tentang K3 pabrik.")
			for position, number in enumerate(numbers)
		]
		sticker = text_message(numbers[0], "", kind="sticker", id="stk1", mime_type="image/webp")
		body = body_of([*messages, sticker], entries=1)
		body["entry"].append(
			body_of([text_message(numbers[1], "Pesan kedua di entri lain, soal cuti.")])["entry"][0]
		)
		self.assertEqual(post_signed(body).status_code, 200)
		wamids = [m["id"] for m in messages] + [
			sticker["id"],
			body["entry"][1]["changes"][0]["value"]["messages"][0]["id"],
		]
		self.assertEqual(
			frappe.db.count(inbox.INBOUND, {"dedup_key": ["in", [f"whatsapp:{w}" for w in wamids]]}), 4
		)
		states = [run_inbox(wamid).state for wamid in wamids]
		self.assertEqual(states, ["Processed", "Processed", "Ignored", "Processed"])
		cases = {inbound_for(wamid).grievance for wamid in wamids if inbound_for(wamid).grievance}
		self.assertEqual(len(cases), 2, "the second number's two messages make one case")

		other = {"object": "page", "entry": [{"id": secrets.token_hex(6), "changes": []}]}
		before = frappe.db.count(inbox.INBOUND)
		self.assertEqual(post_signed(other).status_code, 200)
		self.assertEqual(post_signed(other).status_code, 200)
		self.assertEqual(frappe.db.count(inbox.INBOUND), before + 1)
		last = frappe.get_last_doc(inbox.INBOUND)
		self.assertEqual(inbox.process_message(last.name), "Ignored")

	def test_status_callbacks_update_delivery_and_never_go_back(self):
		case, _message = self.open_case(new_number())
		deliver_queued(case)
		wamid = frappe.db.get_value(
			"Case Message", {"grievance": case, "direction": "To Worker"}, "provider_message_id"
		)

		def status(name, **extra):
			return {"id": wamid, "status": name, "timestamp": "1764750100", "recipient_id": "x", **extra}

		body = body_of(statuses=[status("delivered"), status("read"), status("sent")])
		self.assertEqual(post_signed(body).status_code, 200)
		for name in ("delivered", "read", "sent"):
			stored = frappe.db.get_value(inbox.INBOUND, {"dedup_key": f"whatsapp:status:{wamid}:{name}"})
			self.assertEqual(inbox.process_message(stored), "Processed")
		row = frappe.db.get_value(
			"Case Message", {"provider_message_id": wamid}, ["delivery_status", "read_on"], as_dict=True
		)
		self.assertEqual(row.delivery_status, "Read", "a late 'sent' does not undo 'read'")
		self.assertTrue(row.read_on)

		failed = status(
			"failed",
			errors=[{"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable"}],
		)
		post_signed(body_of(statuses=[failed]))
		stored = frappe.db.get_value(inbox.INBOUND, {"dedup_key": f"whatsapp:status:{wamid}:failed"})
		inbox.process_message(stored)
		row = frappe.db.get_value(
			"Case Message", {"provider_message_id": wamid}, ["delivery_status", "error"], as_dict=True
		)
		self.assertEqual(row.delivery_status, "Failed")
		self.assertIn("131026", row.error)

	def test_a_reply_is_retried_on_429_and_never_on_400_and_the_official_never_sees_the_number(self):
		number = new_number()
		case, _message = self.open_case(number)
		deliver_queued(case)
		self.provider.requests.clear()
		official = RestSession(BOGOR_BRANCH)
		answer = official.post(
			"/api/method/unioncase.intake.conversation.reply",
			case=case,
			message="Kami akan hubungi HRD besok.",
			channel="WhatsApp",
		)
		self.assertEqual(answer.status_code, 200, answer.text)
		name = answer.json()["message"]["name"]
		self.provider.answers = [(429, {"error": {"message": "Rate limit hit", "code": 130429}})]
		self.assertEqual(conversation.deliver(name), "Failed")
		row = frappe.db.get_value(
			"Case Message", name, ["attempts", "next_attempt_on", "delivery_status"], as_dict=True
		)
		self.assertEqual((row.attempts, row.delivery_status), (1, "Failed"))
		self.assertGreater(row.next_attempt_on, now_datetime(), "retried after the backoff")
		self.assertEqual(conversation.deliver(name), "Sent")
		self.assertEqual(len(self.provider.sent()), 2)
		self.assertEqual(self.provider.sent()[1]["json"]["text"]["body"], "Kami akan hubungi HRD besok.")

		refused = official.post(
			"/api/method/unioncase.intake.conversation.reply",
			case=case,
			message="Balasan kedua.",
			channel="WhatsApp",
		).json()["message"]["name"]
		self.provider.answers = [(400, {"error": {"message": "Invalid parameter", "code": 100}})]
		self.assertEqual(conversation.deliver(refused), "Failed")
		row = frappe.db.get_value("Case Message", refused, ["next_attempt_on", "error"], as_dict=True)
		self.assertIsNone(row.next_attempt_on, "a 4xx is not retried")
		self.assertIn("Invalid parameter", row.error)
		self.assertNotIn(refused, conversation.retry_due_deliveries())
		self.assertEqual(len(self.provider.sent()), 3)

		# what the official reads: the case, its conversation, no number anywhere
		for path in (
			f"/api/resource/Grievance/{case}",
			"/api/method/unioncase.intake.conversation.get_conversation",
		):
			page = official.get(path, case=case)
			self.assertEqual(page.status_code, 200, path)
			self.assertNotIn(number[2:], page.text, path)
		self.assertIn(
			"WhatsApp",
			official.get("/api/method/unioncase.intake.conversation.get_conversation", case=case).json()[
				"message"
			]["channels"],
		)
		contact = handle.for_case(case)
		self.assertEqual(official.get(f"/api/resource/Contact Handle/{contact.name}").status_code, 403)

	def test_outside_the_24_hour_window_only_a_template_is_sent(self):
		case, _message = self.open_case(new_number())
		deliver_queued(case)
		frappe.db.set_value(
			"Case Message",
			{"grievance": case, "direction": "From Worker"},
			"sent_on",
			now_datetime() - timedelta(hours=25),
		)
		frappe.db.commit()
		official = RestSession(BOGOR_BRANCH)
		refused = official.post(
			"/api/method/unioncase.intake.conversation.reply", case=case, message="Halo?", channel="WhatsApp"
		)
		self.assertEqual(refused.status_code, 417, refused.text)
		self.assertIn("more than 24 hours ago", refused.json()["exception"])
		self.assertEqual(frappe.db.count("Case Message", {"grievance": case, "direction": "To Worker"}), 1)

		frappe.db.set_single_value(whatsapp.SETTINGS, "reply_template", "pembaruan_kasus")
		frappe.db.commit()
		self.provider.requests.clear()
		answer = official.post(
			"/api/method/unioncase.intake.conversation.reply", case=case, message="Halo?", channel="WhatsApp"
		)
		self.assertEqual(answer.status_code, 200, answer.text)
		self.assertEqual(conversation.deliver(answer.json()["message"]["name"]), "Sent")
		(sent,) = self.provider.sent()
		self.assertEqual(sent["json"]["type"], "template")
		self.assertEqual(sent["json"]["template"], {"name": "pembaruan_kasus", "language": {"code": "id"}})

	def test_a_photo_is_downloaded_checked_and_kept_private_on_the_case(self):
		number = new_number()
		self.provider.media["MEDIA1"] = PNG
		self.provider.media["MEDIA2"] = b"MZ\x90\x00" + b"\x00" * 64
		photo = text_message(
			number, "", kind="image", id="MEDIA1", mime_type="image/png", caption="Slip gaji"
		)
		self.assertEqual(post_signed(body_of([photo])).status_code, 200)
		case = run_inbox(photo["id"]).grievance
		kept = frappe.get_all(
			"File",
			filters={"attached_to_doctype": "Grievance", "attached_to_name": case},
			fields=["file_name", "is_private"],
		)
		self.assertEqual(len(kept), 1)
		self.assertTrue(kept[0].file_name.endswith(".png"))
		self.assertEqual(kept[0].is_private, 1)
		self.assertIn(f"Bearer {ACCESS_TOKEN}", {r["authorization"] for r in self.provider.requests})
		disguised = text_message(
			number, "", kind="document", id="MEDIA2", mime_type="application/pdf", filename="slip.pdf"
		)
		self.assertEqual(post_signed(body_of([disguised])).status_code, 200)
		self.assertEqual(run_inbox(disguised["id"]).grievance, case)
		self.assertEqual(
			frappe.db.count("File", {"attached_to_doctype": "Grievance", "attached_to_name": case}), 1
		)
		missing = text_message(number, "", kind="audio", id="MEDIA-GONE", mime_type="audio/ogg")
		post_signed(body_of([missing]))
		self.assertEqual(run_inbox(missing["id"]).state, "Processed", "the message is kept with a note")
		self.assertTrue(
			frappe.db.exists(
				"Comment", {"reference_name": case, "content": ["like", "%could not be downloaded%"]}
			)
		)

	def test_a_disabled_channel_accepts_nothing_even_signed(self):
		frappe.db.set_single_value(whatsapp.SETTINGS, "enabled", 0)
		frappe.db.commit()
		try:
			message = text_message(new_number(), "Pesan saat WhatsApp dimatikan.")
			answer = post_signed(body_of([message]))
			self.assertEqual(answer.status_code, 503, answer.text)
			self.assertIsNone(inbound_for(message["id"]))
		finally:
			frappe.db.set_single_value(whatsapp.SETTINGS, "enabled", 1)
			frappe.db.commit()

	def test_secrets_are_encrypted_and_never_in_the_settings_answer(self):
		self.assertEqual(
			get_decrypted_password(whatsapp.SETTINGS, whatsapp.SETTINGS, "app_secret"), APP_SECRET
		)
		stored = frappe.db.get_singles_dict(whatsapp.SETTINGS)
		for value in (APP_SECRET, ACCESS_TOKEN, VERIFY_TOKEN):
			self.assertNotIn(value, json.dumps(stored, default=str))

	def test_buttons_locations_and_reactions_join_the_conversation(self):
		number = new_number()
		case, first = self.open_case(number)
		button = text_message(
			number,
			"",
			kind="interactive",
			type="button_reply",
			button_reply={"id": "human", "title": "Bicara dengan pengurus"},
		)
		location = text_message(
			number, "", kind="location", latitude=-6.595, longitude=106.816, name="PT Sinar Garmen"
		)
		reaction = text_message(number, "", kind="reaction", message_id=first["id"], emoji="👍")
		stranger = text_message(new_number(), "", kind="reaction", message_id="wamid.x", emoji="👍")
		self.assertEqual(post_signed(body_of([button, location, reaction, stranger])).status_code, 200)
		self.assertEqual(
			[run_inbox(m["id"]).state for m in (button, location, reaction, stranger)],
			["Processed", "Processed", "Processed", "Ignored"],
		)
		contents = frappe.get_all(
			"Case Message",
			filters={"grievance": case, "direction": "From Worker"},
			pluck="content",
			order_by="creation asc",
		)
		self.assertEqual(contents[1], "Bicara dengan pengurus")
		self.assertIn("-6.595, 106.816 PT Sinar Garmen", contents[2])
		self.assertIn("👍", contents[3])
		self.assertIsNone(inbound_for(stranger["id"]).grievance, "a reaction opens no case")

	def test_oversized_and_unparseable_bodies(self):
		before = frappe.db.count(inbox.INBOUND)
		huge = b'{"object": "whatsapp_business_account", "pad": "' + b"x" * (4 * 1024 * 1024) + b'"}'
		self.assertEqual(post_signed(None, raw=huge).status_code, 413)
		self.assertEqual(frappe.db.count(inbox.INBOUND), before)
		# a signed body that is not JSON (or truncated): a 400 saying so, nothing stored, so the provider
		# delivers it again; never the framework's 417 before the signature check
		for raw in (b"not json " + secrets.token_hex(8).encode(), json.dumps(body_of())[:-7].encode()):
			signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
			for content_type in ("text/plain", "application/json"):
				answer = requests.post(
					f"{server_url()}{WEBHOOK}",
					data=raw,
					headers={"Content-Type": content_type, "X-Hub-Signature-256": signature},
					timeout=60,
				)
				self.assertEqual(answer.status_code, 400, answer.text)
				self.assertIn("not valid JSON", answer.json()["message"])
				unsigned = requests.post(
					f"{server_url()}{WEBHOOK}", data=raw, headers={"Content-Type": content_type}, timeout=60
				)
				self.assertEqual(unsigned.status_code, 401, unsigned.text)
		frappe.db.commit()
		self.assertEqual(frappe.db.count(inbox.INBOUND), before)

	@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
	@given(
		st.recursive(
			st.none() | st.booleans() | st.integers() | st.text(max_size=20),
			lambda children: (
				st.lists(children, max_size=3)
				| st.dictionaries(
					st.sampled_from(
						[
							"object",
							"entry",
							"changes",
							"value",
							"messages",
							"statuses",
							"id",
							"from",
							"type",
							"text",
						]
					),
					children,
					max_size=4,
				)
			),
			max_leaves=12,
		),
		st.booleans(),
	)
	def test_any_signed_body_is_accepted_and_any_unsigned_one_stores_nothing(self, body, signed):
		before = frappe.db.count(inbox.INBOUND)
		wrapped = {"object": "whatsapp_business_account", "entry": body} if isinstance(body, list) else body
		# a bare JSON scalar reaches the webhook too (the runtime no longer refuses it with 417 first)
		answer = post_signed(wrapped, signature=None if signed else "sha256=" + "0" * 64)
		if not signed:
			self.assertEqual(answer.status_code, 403)
			self.assertEqual(frappe.db.count(inbox.INBOUND), before)
			return
		self.assertEqual(answer.status_code, 200, answer.text[:300])
		# whatever was stored is processed without an error (Processed or Ignored, never Failed)
		for name in frappe.get_all(
			inbox.INBOUND, filters={"state": "Received", "channel": "WhatsApp"}, pluck="name"
		):
			self.assertIn(inbox.process_message(name), ("Processed", "Ignored"))

	@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
	@given(
		st.lists(
			st.tuples(
				st.sampled_from(["text", "image", "sticker", "reaction", "unsupported", "location"]),
				st.sampled_from(["6281234567", "+62 812-3456", "0812", "abc", ""]),
				st.integers(min_value=0, max_value=5),
			),
			min_size=1,
			max_size=6,
		),
		st.integers(min_value=1, max_value=3),
	)
	def test_every_message_of_a_signed_batch_is_stored_exactly_once(self, specs, repeats):
		run = secrets.token_hex(4)
		messages = [
			text_message(
				prefix + str(1000 + suffix * 7)[-4:] if prefix.isdigit() else prefix,
				"Pesan uji sifat.",
				wamid=f"wamid.P{run}{position % 4}",  # some ids repeat inside the batch
				kind=kind,
				**({"body": "Pesan uji sifat."} if kind == "text" else {"id": f"m{suffix}"}),
			)
			for position, (kind, prefix, suffix) in enumerate(specs)
		]
		for _ in range(repeats):  # the provider retries the same body
			self.assertEqual(post_signed(body_of(messages)).status_code, 200)
		wamids = {message["id"] for message in messages}
		stored = frappe.get_all(
			inbox.INBOUND, filters={"dedup_key": ["like", f"whatsapp:wamid.P{run}%"]}, pluck="dedup_key"
		)
		self.assertEqual(sorted(stored), sorted(f"whatsapp:{wamid}" for wamid in wamids))
		for wamid in wamids:
			self.assertIn(run_inbox(wamid).state, ("Processed", "Ignored"))
