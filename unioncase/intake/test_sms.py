"""SMS: real authenticated posts over HTTP to the running site, and a stand-in gateway on loopback (a second
real HTTP server, unioncase/tests/sms_gateway.py) that records what it is sent and answers 200, 429,
500 or 400 as a test scripts."""

import hashlib
import hmac
import json
import random
import secrets
import unittest
from datetime import timedelta
from urllib.parse import urlencode

import frappe
import requests
from frappe.utils import now_datetime
from frappe.utils.background_jobs import get_queue
from frappe.utils.password import get_decrypted_password
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unioncase.compat import IntegrationTestCase, has_sms_log
from unioncase.intake import conversation, handle, inbox, sms, tracking
from unioncase.intake.conversation import DeliveryDeferred, DeliveryRefused
from unioncase.tests.hierarchy_data import ensure_hierarchy, make_official
from unioncase.tests.rest_client import RestSession, server_url
from unioncase.tests.sms_gateway import GATEWAY_KEY, SENDER_NAME, SHARED_SECRET, SmsGateway, configure

BOGOR = "T PUK Bogor Satu"
BOGOR_BRANCH = "t.branch.bogor@test.unioncase.org"
ADMIN = "t.admin@test.unioncase.org"  # a Union Administrator: reads SMS Intake Settings
OTHER_UNION = "T PUK Bogor Dua"
ROUTED_NUMBER = "+6281199990002"
WEBHOOK = "/api/method/unioncase.intake.sms.webhook"


def new_number() -> str:
	return "+62812" + "".join(secrets.choice("0123456789") for _ in range(8))


def new_id() -> str:
	return "SMSIN" + secrets.token_hex(8)


def sign(raw: bytes, secret: str = SHARED_SECRET) -> str:
	return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def post_sms(fields=None, *, as_json=False, secret=SHARED_SECRET, signature=None, raw=None, headers=None):
	"""One post as the gateway makes it: form-encoded (or JSON), signed with HMAC-SHA256 of the body."""
	if raw is None:
		raw = json.dumps(fields).encode() if as_json else urlencode(fields or {}).encode()
	sent = {
		"Content-Type": "application/json" if as_json else "application/x-www-form-urlencoded",
		**(headers or {}),
	}
	if signature is None:
		signature = sign(raw, secret)
	if signature:
		sent["X-Signature"] = signature
	answer = requests.post(f"{server_url()}{WEBHOOK}", data=raw, headers=sent, timeout=60)
	frappe.db.commit()  # a fresh snapshot: what the server stored becomes visible
	return answer


def message(number: str, text: str, message_id: str | None = None, **extra) -> dict:
	return {
		"msisdn": number,
		"to": "+6281100000000",
		"messageId": message_id or new_id(),
		"text": text,
		**extra,
	}


def inbound_for(message_id: str):
	return frappe.db.get_value(
		inbox.INBOUND,
		{"dedup_key": f"sms:{message_id}"},
		["name", "state", "grievance", "state_reason"],
		as_dict=True,
	)


def run_inbox(message_id: str):
	inbox.process_message(inbound_for(message_id).name)
	return inbound_for(message_id)


def deliver_queued(grievance: str) -> list[str]:
	queued = frappe.get_all(
		conversation.CASE_MESSAGE,
		filters={"grievance": grievance, "delivery_status": ["in", ["Queued", "Failed"]]},
		pluck="name",
		order_by="creation asc",
	)
	return [conversation.deliver(name) for name in queued]


class TestSegments(unittest.TestCase):
	"""GSM 03.38 and UCS-2 lengths: what one SMS holds and how a long one is cut."""

	def test_gsm7_holds_160_and_parts_of_153(self):
		self.assertEqual(sms.segments("a" * 160), ["a" * 160])
		self.assertEqual([len(p) for p in sms.segments("a" * 161)], [153, 8])
		self.assertEqual([len(p) for p in sms.segments("b" * 306)], [153, 153])
		self.assertEqual(sms.encoding_of("Upah lembur @ £5 ÄÖ"), "GSM-7")

	def test_extension_characters_count_two_and_are_never_cut(self):
		self.assertEqual(sms.length_of("€" * 80), ("GSM-7", 160))
		self.assertEqual(sms.segments("€" * 80), ["€" * 80])
		parts = sms.segments("a" + "[" * 80)  # 161 septets: the 77th bracket would straddle the cut
		self.assertEqual([sms.length_of(p)[1] for p in parts], [153, 8])
		self.assertEqual("".join(parts), "a" + "[" * 80)
		self.assertEqual(sms.segments("x" * 152 + "€" + "y" * 7), ["x" * 152, "€" + "y" * 7])

	def test_ucs2_holds_70_and_parts_of_67(self):
		self.assertEqual(sms.encoding_of("Gaji belum dibayar 😟"), "UCS-2")
		self.assertEqual(len(sms.segments("ă" * 70)), 1)
		self.assertEqual([len(p) for p in sms.segments("ă" * 71)], [67, 4])
		# an emoji is two UTF-16 units and is never cut in two
		parts = sms.segments("ă" * 66 + "😟" + "ă" * 3)
		self.assertEqual(parts, ["ă" * 66, "😟ăăă"])

	@settings(max_examples=300, deadline=None)
	@given(st.text(alphabet=st.sampled_from(list("aZ 09@€[]{}^~|\\\năé😟ß")), max_size=700))
	def test_parts_join_back_and_fit(self, text):
		parts = sms.segments(text)
		self.assertEqual("".join(parts), text)
		encoding, total = sms.length_of(text)
		single, size = sms.LIMITS[encoding]
		if total <= single:
			self.assertEqual(parts, [text])
		else:
			self.assertTrue(all(sms.length_of(p)[1] <= size for p in parts))
			self.assertTrue(all(sms.unit_length(c, encoding) for p in parts for c in p))
			# as few parts as a greedy cut allows
			self.assertLessEqual(len(parts), -(-total // (size - 1)))


class TestSMS(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		make_official(BOGOR_BRANCH, "Branch Official", "T Cabang Bogor")
		cls.gateway = SmsGateway()
		# the transport's tests: a first SMS opens a case at once (the guided one: test_sms_guided.py)
		configure(cls.gateway, BOGOR, guided_intake=0)
		settings_doc = frappe.get_single(sms.SETTINGS)
		settings_doc.set("receiving_numbers", [{"number": "0811 9999 0002", "union": OTHER_UNION}])
		settings_doc.save(ignore_permissions=True)
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		print(f"\nSMS posts by the exactly-once property test: {getattr(cls, 'posted', 0)}")
		cls.gateway.stop()
		frappe.db.set_single_value(sms.SETTINGS, "guided_intake", 1)  # the default other suites expect
		frappe.db.commit()
		# the jobs these tests queued (and ran themselves): no worker takes them, and Frappe refuses to
		# queue more once 500 wait (QueueOverloaded), which later tests would meet
		get_queue(inbox.QUEUE).empty()
		super().tearDownClass()

	def setUp(self):
		self.gateway.requests.clear()
		self.gateway.answers.clear()
		get_queue(inbox.QUEUE).empty()

	def tearDown(self):
		frappe.set_user("Administrator")
		for field, value in (
			("enabled", 1),
			("auth_mode", "HMAC Signature"),
			("split_mode", "Gateway joins the parts"),
			("auth_type", "Header"),
		):
			frappe.db.set_single_value(sms.SETTINGS, field, value)
		frappe.db.commit()

	def open_case(self, number: str, text: str = "Upah lembur bulan ini belum dibayar sama sekali.", **extra):
		sent = message(number, text, **extra)
		answer = post_sms(sent)
		self.assertEqual(answer.status_code, 200, answer.text)
		stored = run_inbox(sent["messageId"])
		self.assertEqual(stored.state, "Processed", stored.state_reason)
		return stored.grievance, sent

	def test_unsigned_forged_and_tampered_posts_are_refused_counted_and_store_nothing(self):
		before, counted = frappe.db.count(inbox.INBOUND), sms.rejected_today()
		sent = message(new_number(), "Saya dipecat tanpa surat.")
		raw = urlencode(sent).encode()
		unsigned = post_sms(raw=raw, signature="")
		forged = post_sms(raw=raw, secret="bukan-rahasia")
		tampered = post_sms(raw=raw.replace(b"dipecat", b"dipecut"), signature=sign(raw))
		self.assertEqual((unsigned.status_code, forged.status_code, tampered.status_code), (401, 403, 403))
		self.assertIn("X-Signature", unsigned.json()["message"])
		self.assertNotIn("dipecat", forged.text + unsigned.text)
		self.assertEqual(frappe.db.count(inbox.INBOUND), before, "nothing stored")
		self.assertIsNone(inbound_for(sent["messageId"]))
		self.assertEqual(sms.rejected_today(), counted + 3)

	def test_a_token_the_admin_set_authenticates_in_a_header_or_the_url(self):
		frappe.db.set_single_value(sms.SETTINGS, "auth_mode", "Token")
		frappe.db.commit()
		by_header, by_url, wrong = (message(new_number(), f"Pesan token {n}.") for n in range(3))
		self.assertEqual(post_sms(by_header, signature=SHARED_SECRET).status_code, 200)
		answer = requests.post(f"{server_url()}{WEBHOOK}?token={SHARED_SECRET}", data=by_url, timeout=60)
		self.assertEqual(answer.status_code, 200, answer.text)
		self.assertEqual(post_sms(wrong, signature="tebakan").status_code, 403)
		self.assertEqual(post_sms(wrong, signature="").status_code, 401)
		frappe.db.commit()
		self.assertTrue(inbound_for(by_header["messageId"]))
		self.assertTrue(inbound_for(by_url["messageId"]))
		self.assertIsNone(inbound_for(wrong["messageId"]))

	def test_a_signed_sms_opens_a_case_and_the_worker_gets_the_tracking_code(self):
		number = new_number()
		sent = message(number, "Upah lembur bulan Oktober tidak dibayar di PT Sinar Garmen.")
		self.assertEqual(post_sms(sent).status_code, 200)
		self.assertEqual(post_sms(sent).status_code, 200, "the gateway posts it again")
		self.assertEqual(frappe.db.count(inbox.INBOUND, {"dedup_key": f"sms:{sent['messageId']}"}), 1)
		stored = inbound_for(sent["messageId"])
		self.assertEqual(stored.state, "Received")
		self.assertNotIn(number[3:], frappe.db.get_value(inbox.INBOUND, stored.name, "payload"))

		stored = run_inbox(sent["messageId"])
		case = frappe.get_doc("Grievance", stored.grievance)
		self.assertEqual((case.owning_union, case.channel, case.is_anonymous), (BOGOR, "SMS", 1))
		self.assertIn("Upah lembur bulan Oktober", case.description)
		self.assertNotIn(number[3:], json.dumps(case.as_dict(), default=str), "the number is not on the case")
		contact = handle.for_case(case.name)
		self.assertEqual(contact.address_kind, "Phone")
		self.assertEqual(handle.resolve(contact.name), number)

		sms_logs = frappe.db.count("SMS Log") if has_sms_log() else None
		self.assertEqual(deliver_queued(case.name), ["Sent"])
		(request,) = self.gateway.requests
		self.assertEqual((request["method"], request["path"]), ("POST", "/send"))
		self.assertIn("application/json", request["content_type"])
		self.assertEqual(request["headers"].get("X-Api-Key"), GATEWAY_KEY)
		self.assertEqual((request["params"]["to"], request["params"]["from"]), (number, SENDER_NAME))
		code = tracking.display(sms.tracking_code(f"sms:{sent['messageId']}"))
		text = request["params"]["text"]
		self.assertIn(code, text)
		self.assertIn("Kode pelacakan", text, "in Bahasa Indonesia")
		self.assertIn("/kasus", text)
		self.assertEqual(len(sms.segments(text)), 1, "the acknowledgement fits one SMS")
		self.assertEqual(handle.case_for_code_hash(tracking.code_hash(tracking.normalise(code))), case.name)
		ack = frappe.get_all(
			"Case Message",
			filters={"grievance": case.name, "direction": "To Worker"},
			fields=["content", "provider_message_id", "delivery_status", "channel"],
		)
		self.assertEqual(len(ack), 1)
		self.assertEqual(ack[0].channel, "SMS")
		self.assertNotIn(code, ack[0].content, "officials never read the worker's code")
		self.assertTrue(ack[0].provider_message_id.startswith("SMSOUT"))
		# v15 without ERPNext has no SMS Log: nothing there to write to (unioncase.compat.has_sms_log)
		if sms_logs is not None:
			self.assertEqual(
				frappe.db.count("SMS Log"), sms_logs, "Frappe's SMS Log (numbers in clear) unused"
			)

		# a follow-up from the same number, written another way, joins the open case
		again, _sent = self.open_case("0" + number[3:], "Ini slip gaji saya, lembur tidak tercatat.")
		self.assertEqual(again, case.name)
		self.assertEqual(
			frappe.db.count("Case Message", {"grievance": case.name, "direction": "From Worker"}), 2
		)

	def test_the_receiving_number_routes_to_its_union_and_json_posts_are_accepted(self):
		sent = message(new_number(), "Pesan ke nomor cabang lain.", to="62 811-9999-0002")
		self.assertEqual(post_sms(sent, as_json=True).status_code, 200)
		case = run_inbox(sent["messageId"]).grievance
		self.assertEqual(frappe.db.get_value("Grievance", case, "owning_union"), OTHER_UNION)

	def test_the_parts_of_a_long_sms_are_joined_in_order_whatever_order_they_come_in(self):
		number, reference = new_number(), secrets.token_hex(3)
		texts = ["Bagian pertama: upah lembur ", "bagian kedua: tidak dibayar ", "bagian ketiga: sejak Mei."]
		parts = [
			message(number, text, **{"concat-ref": reference, "concat-part": str(n), "concat-total": "3"})
			for n, text in enumerate(texts, 1)
		]
		reasons = []
		for part in (parts[2], parts[0], parts[1]):
			self.assertEqual(post_sms(part).status_code, 200)
			reasons.append(run_inbox(part["messageId"]).state_reason)
		self.assertEqual(
			reasons[:2],
			["Part 3 of 3; waiting for the other parts.", "Part 1 of 3; waiting for the other parts."],
		)
		self.assertIn("the message was joined in", reasons[2])
		joined = frappe.get_last_doc(inbox.INBOUND, filters={"dedup_key": ["like", "sms:joined:%"]})
		self.assertEqual(inbox.process_message(joined.name), "Processed")
		case = frappe.db.get_value(inbox.INBOUND, joined.name, "grievance")
		(content,) = frappe.get_all(
			"Case Message", filters={"grievance": case, "direction": "From Worker"}, pluck="content"
		)
		self.assertEqual(content, "".join(texts))
		for part in parts:  # each part kept as it came
			self.assertEqual(
				inbox.payload_of(frappe.get_doc(inbox.INBOUND, inbound_for(part["messageId"]).name))[
					"fields"
				]["text"],
				part["text"],
			)
		# the gateway sends part 2 again under a new id: stored, and ignored as already joined
		again = dict(parts[1], messageId=new_id())
		self.assertEqual(post_sms(again).status_code, 200)
		self.assertEqual(run_inbox(again["messageId"]).state, "Ignored")
		self.assertEqual(frappe.db.count("Case Message", {"grievance": case, "direction": "From Worker"}), 1)

	def add_joined_history(self, groups: int):
		"""Parts of long messages joined before, each with its joined message, as a site's history holds."""
		history, then = f"history-{secrets.token_hex(3)}", now_datetime() - timedelta(minutes=30)
		later = now_datetime() + timedelta(minutes=1)  # touched since: first in any order by modified
		rows = []
		for index in range(groups):
			group = f"{history}-{index}"
			for key, part_group in ((f"sms:{group}:1", group), (sms.joined_key(group), None)):
				rows.append(
					(
						frappe.generate_hash(length=10),
						sms.CHANNEL,
						inbox.PROCESSED,
						key,
						part_group,
						then,
						then,
						later,
					)
				)
		frappe.db.bulk_insert(
			inbox.INBOUND,
			["name", "channel", "state", "dedup_key", "part_group", "received_on", "creation", "modified"],
			rows,
		)
		frappe.db.commit()
		self.addCleanup(
			lambda: (
				frappe.db.sql(
					f"delete from `tab{inbox.INBOUND}` where dedup_key like %s or dedup_key like %s",
					(f"sms:{history}-%", f"sms:joined:{history}-%"),
				),
				frappe.db.commit(),
			)
		)

	def test_a_long_sms_whose_last_part_never_comes_is_joined_after_a_wait(self):
		number, reference = new_number(), secrets.token_hex(3)
		first = message(
			number,
			"Hanya bagian pertama yang sampai. ",
			**{"concat-ref": reference, "concat-part": "1", "concat-total": "2"},
		)
		self.assertEqual(post_sms(first).status_code, 200)
		self.assertIn("waiting", run_inbox(first["messageId"]).state_reason)
		group = frappe.db.get_value(inbox.INBOUND, inbound_for(first["messageId"]).name, "part_group")
		sms.join_waiting_parts()
		self.assertFalse(
			frappe.db.exists(inbox.INBOUND, {"dedup_key": sms.joined_key(group)}), "not before the wait"
		)
		frappe.db.set_value(
			inbox.INBOUND,
			inbound_for(first["messageId"]).name,
			"received_on",
			now_datetime() - timedelta(minutes=11),
		)
		self.add_joined_history(201)  # more groups joined long ago than the job takes in one run
		sms.join_waiting_parts()
		joined = frappe.db.get_value(inbox.INBOUND, {"dedup_key": sms.joined_key(group)})
		self.assertTrue(joined, "joined after the wait")
		self.assertEqual(inbox.process_message(joined), "Processed")
		case = frappe.db.get_value(inbox.INBOUND, joined, "grievance")
		(content,) = frappe.get_all(
			"Case Message", filters={"grievance": case, "direction": "From Worker"}, pluck="content"
		)
		self.assertEqual(content, "Hanya bagian pertama yang sampai. [part 2 of 2 did not arrive]")

	def test_a_reply_is_retried_on_429_and_500_never_on_400_and_the_official_never_sees_the_number(self):
		number = new_number()
		case, _sent = self.open_case(number)
		deliver_queued(case)
		self.gateway.requests.clear()
		official = RestSession(BOGOR_BRANCH)
		channels = official.get("/api/method/unioncase.intake.conversation.get_conversation", case=case)
		self.assertEqual(channels.json()["message"]["default_channel"], "SMS")
		answer = official.post(
			"/api/method/unioncase.intake.conversation.reply",
			case=case,
			message="Kami akan hubungi HRD besok.",
		)
		self.assertEqual(answer.status_code, 200, answer.text)
		self.assertEqual(answer.json()["message"]["channel"], "SMS")
		name = answer.json()["message"]["name"]
		self.gateway.answers = [(429, {"error": "throttled"}), (500, {"error": "down"})]
		self.assertEqual(conversation.deliver(name), "Failed")
		self.assertEqual(conversation.deliver(name), "Failed")
		row = frappe.db.get_value(
			"Case Message", name, ["attempts", "next_attempt_on", "error"], as_dict=True
		)
		self.assertEqual(row.attempts, 2)
		self.assertGreater(row.next_attempt_on, now_datetime(), "retried after the backoff")
		self.assertIn("500", row.error)
		self.assertEqual(conversation.deliver(name), "Sent")
		self.assertEqual(len(self.gateway.requests), 3, "each attempt reached the gateway")
		self.assertEqual(self.gateway.requests[2]["params"]["text"], "Kami akan hubungi HRD besok.")

		refused = official.post(
			"/api/method/unioncase.intake.conversation.reply",
			case=case,
			message="Balasan kedua.",
			channel="SMS",
		).json()["message"]["name"]
		# gateways echo the number in their errors: the error officials read does not
		self.gateway.answers = [(400, {"error": f"Invalid destination {number} ({number[1:]})"})]
		self.assertEqual(conversation.deliver(refused), "Failed")
		row = frappe.db.get_value("Case Message", refused, ["next_attempt_on", "error"], as_dict=True)
		self.assertIsNone(row.next_attempt_on, "a 4xx is not retried")
		self.assertIn("Invalid destination", row.error)
		self.assertNotIn(number[3:], row.error)
		self.assertNotIn(refused, conversation.retry_due_deliveries())
		self.assertEqual(len(self.gateway.requests), 4)
		too_long = official.post(
			"/api/method/unioncase.intake.conversation.reply", case=case, message="a" * 153 * 7, channel="SMS"
		)
		self.assertEqual(too_long.status_code, 417, too_long.text[:300])
		self.assertIn("7 SMS parts", too_long.json()["exception"])
		for path in (
			f"/api/resource/Grievance/{case}",
			"/api/method/unioncase.intake.conversation.get_conversation",
		):
			page = official.get(path, case=case)
			self.assertEqual(page.status_code, 200, path)
			self.assertNotIn(number[3:], page.text, path)
		self.assertEqual(
			official.get(f"/api/resource/Contact Handle/{handle.for_case(case).name}").status_code, 403
		)
		self.assertEqual(
			official.get("/api/resource/SMS Intake Settings/SMS Intake Settings").status_code, 403
		)

	def test_a_long_reply_sent_part_by_part_and_its_delivery_reports(self):
		frappe.db.set_single_value(sms.SETTINGS, "split_mode", "One request per part")
		frappe.db.commit()
		case, _sent = self.open_case(new_number())
		deliver_queued(case)
		self.gateway.requests.clear()
		text = "Kami sudah bicara dengan HRD pabrik 😊 " * 3  # UCS-2: 117 units, two parts of at most 67
		name = conversation.reply(case, text, "SMS")["name"]
		self.assertEqual(conversation.deliver(name), "Sent")
		self.assertEqual("".join(r["params"]["text"] for r in self.gateway.requests), text.strip())
		self.assertEqual(len(self.gateway.requests), 2)
		ids = frappe.db.get_value("Case Message", name, "provider_message_id").split(",")
		self.assertEqual(len(ids), 2)
		# the gateway takes the first part and throttles the second: the retry sends only the second
		self.gateway.requests.clear()
		resumed = conversation.reply(case, text, "SMS")["name"]
		frappe.db.commit()
		self.gateway.answers = [(200, {"message_id": "SMSOUT-first"}), (429, {})]
		self.assertEqual(conversation.deliver(resumed), "Failed")
		self.assertEqual(frappe.db.get_value("Case Message", resumed, "provider_message_id"), "SMSOUT-first")
		self.assertEqual(conversation.deliver(resumed), "Sent")
		sent_texts = [request["params"]["text"] for request in self.gateway.requests]
		self.assertEqual(
			sent_texts, [sent_texts[0], sent_texts[1], sent_texts[1]], "part 2 again, not part 1"
		)
		self.assertNotEqual(sent_texts[0], sent_texts[1])
		self.assertTrue(
			frappe.db.get_value("Case Message", resumed, "provider_message_id").startswith("SMSOUT-first,")
		)

		def report(message_id, status, **extra):
			fields = {"messageId": message_id, "msisdn": "x", "status": status, **extra}
			self.assertEqual(post_sms(fields).status_code, 200)
			stored = frappe.db.get_value(inbox.INBOUND, {"dedup_key": f"sms:status:{message_id}:{status}"})
			return inbox.process_message(stored)

		self.assertEqual(report(ids[1], "delivered"), "Processed")
		self.assertEqual(report(ids[0], "accepted"), "Processed")
		self.assertEqual(
			frappe.db.get_value("Case Message", name, "delivery_status"), "Delivered", "never back"
		)
		self.assertEqual(report(ids[0], "failed", **{"err-code": "6"}), "Processed")
		row = frappe.db.get_value("Case Message", name, ["delivery_status", "error"], as_dict=True)
		self.assertEqual(row.delivery_status, "Failed")
		self.assertIn("error 6", row.error)
		self.assertEqual(report("SMSOUT-unknown", "delivered"), "Ignored")

	def test_send_text_for_other_callers(self):
		number = new_number()
		message_id = sms.send_text(number, "Pengumuman: rapat anggota Sabtu.")
		self.assertTrue(message_id.startswith("SMSOUT"))
		self.assertEqual(self.gateway.requests[-1]["params"]["to"], number)
		self.gateway.answers = [(429, {}), (503, {}), (404, {"error": "no route"})]
		with self.assertRaises(DeliveryDeferred):
			sms.send_text(number, "x")
		with self.assertRaises(DeliveryDeferred):
			sms.send_text(number, "x")
		with self.assertRaises(DeliveryRefused) as refused:
			sms.send_text(number, "x")
		self.assertIn("no route", str(refused.exception))
		with self.assertRaises(DeliveryRefused):
			sms.send_text("12", "x")
		with self.assertRaises(DeliveryRefused):
			sms.send_text(number, "a" * 153 * 7)  # seven parts, six allowed
		frappe.db.set_single_value(sms.SETTINGS, "number_format", "National (0812...)")
		try:
			sms.send_text(number, "y")
			self.assertEqual(self.gateway.requests[-1]["params"]["to"], "0" + number[3:])
		finally:
			frappe.db.set_single_value(sms.SETTINGS, "number_format", "E.164 (+62812...)")
		closed = SmsGateway()
		closed.stop()
		frappe.db.set_single_value("SMS Settings", "sms_gateway_url", closed.url)
		try:
			with self.assertRaises(DeliveryDeferred):
				sms.send_text(number, "z")
		finally:
			frappe.db.set_single_value("SMS Settings", "sms_gateway_url", self.gateway.url)
			frappe.db.commit()

	def test_bad_posts_get_a_clear_4xx_and_store_nothing(self):
		before = frappe.db.count(inbox.INBOUND)
		cases = (
			(b"", 400, "messageId"),
			(urlencode({"msisdn": new_number(), "text": "tanpa id"}).encode(), 400, "messageId"),
			(urlencode({"messageId": new_id(), "text": "tanpa pengirim"}).encode(), 400, "msisdn"),
			(b"bukan formulir", 415, "form-encoded"),
			(urlencode(message(new_number(), "x", message_id="I" * 91)).encode(), 400, "messageId"),
			(urlencode(message(new_number(), "x" * 10001)).encode(), 400, "text"),
		)
		for raw, status, named in cases:
			answer = post_sms(raw=raw)
			self.assertEqual(answer.status_code, status, answer.text)
			self.assertIn(named, answer.json()["message"])
		# the longest id and a long status word still make a delivery key that fits
		longest = {"messageId": "L" * 82 + secrets.token_hex(4), "status": "d" * 60}
		self.assertEqual(post_sms(longest).status_code, 200)
		self.assertEqual(frappe.db.count(inbox.INBOUND), before + 1)
		before += 1
		huge = urlencode(message(new_number(), "x" * (70 * 1024))).encode()
		self.assertEqual(post_sms(raw=huge).status_code, 413)
		self.assertEqual(frappe.db.count(inbox.INBOUND), before)

	def test_odd_senders_are_kept_and_ignored_with_why(self):
		for sender, state in (
			("TELKOMSEL", "Ignored"),
			("+62 (812) 1111-2222", "Processed"),
			("12", "Ignored"),
		):
			sent = message(sender, "Pesan dari pengirim aneh.")
			self.assertEqual(post_sms(sent).status_code, 200)
			stored = run_inbox(sent["messageId"])
			self.assertEqual(stored.state, state, sender)
		empty = message(new_number(), "")
		self.assertEqual(post_sms(empty).status_code, 200)
		self.assertEqual(run_inbox(empty["messageId"]).state, "Ignored")

	def test_a_disabled_channel_accepts_nothing_even_signed(self):
		frappe.db.set_single_value(sms.SETTINGS, "enabled", 0)
		frappe.db.commit()
		sent = message(new_number(), "Pesan saat SMS dimatikan.")
		self.assertEqual(post_sms(sent).status_code, 503)
		self.assertIsNone(inbound_for(sent["messageId"]))

	def test_secrets_are_encrypted_and_never_in_the_settings_answer(self):
		self.assertEqual(get_decrypted_password(sms.SETTINGS, sms.SETTINGS, "inbound_secret"), SHARED_SECRET)
		stored = json.dumps(frappe.db.get_singles_dict(sms.SETTINGS), default=str)
		answer = RestSession(ADMIN).get("/api/resource/SMS Intake Settings/SMS Intake Settings")
		self.assertEqual(answer.status_code, 200, answer.text[:300])
		for value in (SHARED_SECRET, GATEWAY_KEY):
			self.assertNotIn(value, stored)
			self.assertNotIn(value, answer.text)

	@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
	@given(
		st.dictionaries(
			st.sampled_from(
				[
					"msisdn",
					"to",
					"messageId",
					"text",
					"concat-ref",
					"concat-part",
					"concat-total",
					"status",
					"x",
				]
			),
			st.one_of(
				st.text(max_size=40),
				st.sampled_from(["+6281234567890", "0812-3456-7890", "62 812 3456", "1", "3", "delivered"]),
			),
			max_size=8,
		),
		st.booleans(),
		st.booleans(),
		st.integers(min_value=1, max_value=3),
	)
	def test_any_post_authenticated_is_never_a_500_and_unauthenticated_stores_nothing(
		self, fields, as_json, signed, repeats
	):
		get_queue(inbox.QUEUE).empty()
		before = frappe.db.count(inbox.INBOUND)
		if "messageId" in fields:
			fields["messageId"] = f"P{secrets.token_hex(4)}{fields['messageId'][:20]}"
		raw = json.dumps(fields).encode() if as_json else urlencode(fields).encode()
		answers = [
			post_sms(raw=raw, as_json=as_json, signature=None if signed else "0" * 64) for _ in range(repeats)
		]
		statuses = {answer.status_code for answer in answers}
		if not signed:
			self.assertEqual(statuses, {403})
			self.assertEqual(frappe.db.count(inbox.INBOUND), before)
			return
		self.assertEqual(len(statuses), 1, "the same post, the same answer")
		(status,) = statuses
		self.assertLess(status, 500, answers[0].text[:300])
		if status != 200:
			self.assertEqual(frappe.db.count(inbox.INBOUND), before)
			return
		stored = frappe.db.count(inbox.INBOUND) - before
		self.assertEqual(stored, 1, "an accepted post is stored exactly once")
		for name in frappe.get_all(
			inbox.INBOUND, filters={"state": "Received", "channel": "SMS"}, pluck="name"
		):
			self.assertIn(inbox.process_message(name), ("Processed", "Ignored"))

	@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
	@given(
		st.lists(
			st.tuples(
				st.integers(min_value=1, max_value=3), st.integers(min_value=0, max_value=2), st.booleans()
			),
			min_size=1,
			max_size=6,
		),
		st.integers(min_value=0, max_value=2**32),
	)
	def test_every_accepted_message_is_persisted_and_processed_exactly_once(self, specs, seed):
		"""Messages whole and in parts, each post repeated, all in a shuffled order: one inbox record per
		gateway id, and each message's whole text in exactly one case message."""
		get_queue(inbox.QUEUE).empty()  # no worker runs beside the tests: this test runs the jobs itself
		run, posts, texts, ids = secrets.token_hex(4), [], [], []
		for position, (count, repeats, as_json) in enumerate(specs):
			number, reference = new_number(), secrets.token_hex(3)
			chunks = [f"Pesan {run}-{position} bagian {n} dari {count}. " for n in range(1, count + 1)]
			texts.append("".join(chunks).strip())
			for n, chunk in enumerate(chunks, 1):
				extra = {"concat-ref": reference, "concat-part": str(n), "concat-total": str(count)}
				fields = message(
					number, chunk, message_id=f"P{run}{position}x{n}", **(extra if count > 1 else {})
				)
				ids.append(fields["messageId"])
				posts += [(fields, as_json)] * (1 + repeats)
		random.Random(seed).shuffle(posts)
		for fields, as_json in posts:
			answer = post_sms(fields, as_json=as_json)
			self.assertEqual(answer.status_code, 200, answer.text[:300])
		type(self).posted = getattr(type(self), "posted", 0) + len(posts)
		for message_id in ids:
			self.assertEqual(
				frappe.db.count(inbox.INBOUND, {"dedup_key": f"sms:{message_id}"}), 1, message_id
			)
		for _ in range(3):  # the parts' jobs store the joined messages, whose jobs then run
			for name in frappe.get_all(
				inbox.INBOUND,
				filters={"state": "Received", "channel": "SMS"},
				pluck="name",
				order_by="creation asc",
			):
				self.assertIn(inbox.process_message(name), ("Processed", "Ignored"))
		for text in texts:
			self.assertEqual(
				frappe.db.count("Case Message", {"direction": "From Worker", "content": text}), 1, text
			)

	def test_a_get_to_the_webhook_is_refused_and_stores_nothing(self):
		before = frappe.db.count(inbox.INBOUND)
		sent = message(new_number(), "Lewat GET.")
		answer = requests.get(f"{server_url()}{WEBHOOK}", params=sent, timeout=60)
		frappe.db.commit()
		self.assertEqual(answer.status_code, 403, answer.text[:300])
		self.assertEqual(frappe.db.count(inbox.INBOUND), before)
