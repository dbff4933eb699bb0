"""The guided first contact on WhatsApp: real signed bodies over HTTP to the running site, the loopback
Cloud API stand-in recording what the worker's phone received, the database what was kept."""

import json
import os
import secrets
from datetime import timedelta

import frappe
from frappe.utils import now_datetime
from frappe.utils.background_jobs import get_queue
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from unioncase.compat import IntegrationTestCase
from unioncase.intake import conversation, guided, handle, inbox, tracking, whatsapp
from unioncase.intake.test_whatsapp import (
	ACCESS_TOKEN,
	APP_SECRET,
	PHONE_NUMBER_ID,
	VERIFY_TOKEN,
	Provider,
	body_of,
	inbound_for,
	post_signed,
	text_message,
)
from unioncase.privacy.identity import IDENTITY_ROLE
from unioncase.reports import summary
from unioncase.tests.hierarchy_data import ensure_hierarchy, ensure_user, make_official
from unioncase.tests.intake_data import PNG
from unioncase.tests.rest_client import RestSession
from unioncase.tests.workflow_steps import act

BRANCH = "T Cabang Bogor"
RIAU = "T Cabang Riau"
RIAU_NUMBER_ID = "109876543299"
# a branch of two workplaces (listed) and one of nine (the worker types the name)
GUIDED, GUIDED_NUMBER_ID = "T Cabang Terpandu", "109876543288"
GUIDED_WORKPLACES = ("T PUK Terpandu Dua", "T PUK Terpandu Satu")
MANY, MANY_NUMBER_ID = "T Cabang Banyak", "109876543277"
MANY_WORKPLACES = tuple(
	f"T PUK Banyak {name}"
	for name in ("Sari Satu", "Sari Dua", "Alfa", "Bravo", "Delta", "Gema", "Hotel", "Juli", "Kilo")
)
PUK_GUIDED = "t.puk.terpandu@test.unioncase.org"
BOGOR_BRANCH = "t.branch.bogor@test.unioncase.org"
RIAU_BRANCH = "t.branch.riau@test.unioncase.org"
PUK_BOGOR1 = "t.puk.bogor1@test.unioncase.org"
PUK_BOGOR2 = "t.puk.bogor2.guided@test.unioncase.org"
CUSTODIAN = "t.custodian.guided@test.unioncase.org"
# the stand-in's port: beside this checkout's test server, so two checkouts' tests never share one


def fresh_number() -> str:
	"""A number no earlier run used (test_whatsapp's 4 random digits repeat over runs: an old open
	case would take the message)."""
	return "62813" + "".join(secrets.choice("0123456789") for _ in range(8))


def interactive_of(request: dict) -> dict:
	return request["json"]["interactive"]


def body_text(request: dict) -> str:
	sent = request["json"]
	if sent["type"] == "text":
		return sent["text"]["body"]
	if sent["type"] == "interactive":
		return sent["interactive"]["body"]["text"]
	return json.dumps(sent["template"])


def tap(number: str, reply_id: str, title: str, kind: str = "button_reply", context: str | None = None):
	message = text_message(
		number, "", kind="interactive", type=kind, **{kind: {"id": reply_id, "title": title}}
	)
	if context:
		message["context"] = {"from": "6281100000000", "id": context}
	return message


class TestGuidedConversation(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		for branch, workplaces in ((GUIDED, GUIDED_WORKPLACES), (MANY, MANY_WORKPLACES)):
			for union, level, parent in (
				(branch, "Branch", "T Federasi Garmen"),
				*((workplace, "Workplace Union", branch) for workplace in workplaces),
			):
				if not frappe.db.exists("Union", union):
					frappe.get_doc(
						{"doctype": "Union", "union_name": union, "level": level, "parent_union": parent}
					).insert()
		make_official(PUK_GUIDED, "Workplace Union Official", "T PUK Terpandu Satu")
		make_official(BOGOR_BRANCH, "Branch Official", BRANCH)
		make_official(RIAU_BRANCH, "Branch Official", RIAU)
		make_official(PUK_BOGOR1, "Workplace Union Official", "T PUK Bogor Satu")
		make_official(PUK_BOGOR2, "Workplace Union Official", "T PUK Bogor Dua")
		ensure_user(CUSTODIAN, "Branch Official", BRANCH)
		frappe.get_doc("User", CUSTODIAN).add_roles(IDENTITY_ROLE)
		cls.provider = Provider()
		settings = frappe.get_single(whatsapp.SETTINGS)
		settings.update(
			{
				"enabled": 1,
				"guided_intake": 1,
				"conversation_expiry_hours": 24,
				"phone_number_id": PHONE_NUMBER_ID,
				"graph_url": cls.provider.url,
				"default_union": BRANCH,
				"access_token": ACCESS_TOKEN,
				"app_secret": APP_SECRET,
				"verify_token": VERIFY_TOKEN,
				"reply_template": None,
				"notice_template": None,
			}
		)
		settings.set(
			"routes",
			[
				{"phone_number_id": RIAU_NUMBER_ID, "union": RIAU},
				{"phone_number_id": GUIDED_NUMBER_ID, "union": GUIDED},
				{"phone_number_id": MANY_NUMBER_ID, "union": MANY},
			],
		)
		settings.save(ignore_permissions=True)
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		remove_test_unions()
		cls.provider.stop()
		frappe.db.set_single_value(whatsapp.SETTINGS, {"guided_intake": 0, "notice_template": None})
		frappe.db.commit()
		super().tearDownClass()

	def setUp(self):
		self.number_id = PHONE_NUMBER_ID  # the business number the worker writes to
		self.provider.requests.clear()
		self.provider.answers.clear()

	def tearDown(self):
		frappe.set_user("Administrator")
		# no worker runs beside the tests: the jobs the prompts queued (delivered here) would pile up
		get_queue("short").empty()
		frappe.db.set_single_value(whatsapp.SETTINGS, {"reply_template": None, "notice_template": None})
		frappe.db.commit()

	# --- helpers: the worker's phone -------------------------------------------------------------

	def send(self, message: dict, number_id: str | None = None) -> frappe._dict:
		"""Post the message signed, run the inbox's job, deliver what it queued; what was processed."""
		body = body_of([message])
		body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = number_id or self.number_id
		answer = post_signed(body)
		self.assertEqual(answer.status_code, 200, answer.text)
		stored = inbound_for(message["id"])
		self.assertEqual(inbox.process_message(stored.name), "Processed", stored.name)
		self.deliver(message["from"])
		return inbound_for(message["id"])

	def say(self, number: str, text: str, **extra) -> frappe._dict:
		message = text_message(number, text)
		message.update(extra)
		return self.send(message)

	def deliver(self, number: str):
		handles = frappe.get_all(
			handle.HANDLE, filters={"address_hash": handle.address_hash(f"+{number}")}, pluck="name"
		)
		for name in frappe.get_all(
			conversation.CASE_MESSAGE,
			filters={"contact_handle": ["in", handles or [""]], "delivery_status": "Queued"},
			pluck="name",
			order_by="creation asc",
		):
			self.assertEqual(
				conversation.deliver(name), "Sent", frappe.db.get_value("Case Message", name, "error")
			)

	def received(self, number: str) -> list[dict]:
		"""What the worker's phone got since the test began, oldest first."""
		return [request for request in self.provider.sent() if request["json"]["to"] == number]

	def last(self, number: str) -> dict:
		return self.received(number)[-1]

	def conversation_of(self, number: str):
		return frappe.db.get_value(
			guided.CONVERSATION,
			{"address_hash": handle.address_hash(f"+{number}")},
			["name", "state", "step", "language", "answers", "grievance", "contact_handle"],
			as_dict=True,
		)

	def open_for_triage(self, number: str, first: str = "MANUSIA") -> str:
		stored = self.say(number, first)
		self.assertTrue(stored.grievance, "0/MANUSIA opens the case at once")
		return stored.grievance

	# --- the conversation -------------------------------------------------------------------------

	def test_a_first_contact_is_guided_in_indonesian_and_opens_an_anonymous_case(self):
		number, self.number_id = fresh_number(), GUIDED_NUMBER_ID
		first = self.say(number, "Halo")
		self.assertIsNone(first.grievance, "no case before the questions are answered")
		welcome, workplace = self.received(number)
		self.assertEqual(welcome["path"], f"/v20.0/{GUIDED_NUMBER_ID}/messages")
		self.assertIn("serikat", body_text(welcome).lower(), "Bahasa Indonesia by default")
		self.assertEqual(workplace["json"]["type"], "interactive")
		menu = interactive_of(workplace)
		self.assertEqual(menu["type"], "list")
		rows = menu["action"]["sections"][0]["rows"]
		self.assertEqual(
			[row["title"] for row in rows],
			[*GUIDED_WORKPLACES, "Tidak ada di daftar", "Hubungi pengurus"],
			"the branch's workplaces, another one, a person",
		)
		self.assertEqual(rows[-1]["id"], "human", "a way to a person on every question")
		self.assertLessEqual(max(len(row["title"]) for row in rows), 24)
		self.assertLessEqual(len(menu["action"]["button"]), 20)
		state = self.conversation_of(number)
		self.assertEqual((state.state, state.step, state.language), ("Active", "workplace", "id"))
		self.assertNotIn(number[4:], json.dumps(state, default=str), "the conversation holds no number")

		self.send(tap(number, "wp2", "T PUK Terpandu Satu", kind="list_reply"))
		self.assertEqual(self.last(number)["json"]["type"], "text")
		self.assertIn("Apa yang terjadi", body_text(self.last(number)))
		self.say(number, "Upah lembur bulan November belum dibayar untuk seluruh bagian jahit.")
		anonymity = self.last(number)
		buttons = interactive_of(anonymity)["action"]["buttons"]
		self.assertEqual(
			[b["reply"]["id"] for b in buttons], ["anonymous", "named", "human"], interactive_of(anonymity)
		)
		self.assertLessEqual(max(len(b["reply"]["title"]) for b in buttons), 20)
		self.assertIn(
			"nomor", interactive_of(anonymity)["body"]["text"], "what anonymity means, said honestly"
		)
		self.say(number, "1")  # a numbered reply: anonymous
		consent_text, consent = self.received(number)[-2:]
		version = frappe.db.get_value(
			"Consent Text", {"language": "id"}, "name", order_by="effective_from desc, creation desc"
		)
		self.assertIn(frappe.db.get_value("Consent Text", version, "text")[:60], body_text(consent_text))
		self.assertEqual(
			[b["reply"]["id"] for b in interactive_of(consent)["action"]["buttons"]][:2], ["agree", "decline"]
		)
		self.send(tap(number, "agree", "Saya setuju"))
		notices = self.last(number)
		self.assertEqual(interactive_of(notices)["action"]["buttons"][0]["reply"]["id"], "yes")
		opened = self.send(tap(number, "yes", "Ya, kabari saya"))

		case = frappe.get_doc("Grievance", opened.grievance)
		self.assertEqual(
			(case.owning_union, case.workplace_union, case.channel, case.is_anonymous),
			("T PUK Terpandu Satu", "T PUK Terpandu Satu", "WhatsApp", 1),
		)
		self.assertIn("Upah lembur bulan November", case.description)
		self.assertEqual((case.consent_given, case.consent_text_version), (1, version))
		self.assertTrue(
			frappe.db.exists(
				"Consent Event",
				{
					"reference_doctype": "Grievance",
					"reference_name": case.name,
					"event": "Given",
					"consent_text": version,
				},
			)
		)
		self.assertTrue(case.reporter_pseudonym.startswith("WA-"))
		self.assertFalse(case.reporter_phone)
		self.assertNotIn(number[4:], json.dumps(case.as_dict(), default=str))
		ack = self.last(number)
		code = tracking.display(
			guided.tracking_code(
				frappe.db.get_value(guided.CONVERSATION, self.conversation_of(number).name, "first_inbound")
			)
		)
		self.assertIn(code, body_text(ack))
		self.assertIn("Kode pelacakan Anda", body_text(ack))
		contact = handle.for_case(case.name)
		self.assertEqual(handle.resolve(contact.name), f"+{number}")
		self.assertEqual(frappe.db.get_value(handle.HANDLE, contact.name, "stage_notices"), 1)
		self.assertEqual(handle.case_for_code_hash(tracking.code_hash(tracking.normalise(code))), case.name)
		state = self.conversation_of(number)
		self.assertEqual((state.state, state.grievance, state.answers), ("Opened", case.name, None))
		# the whole exchange is on the case now, and every message the worker sent belongs to it
		timeline = frappe.get_all("Case Message", filters={"grievance": case.name}, pluck="direction")
		self.assertEqual(timeline.count("From Worker"), 6)
		self.assertEqual(frappe.db.count(inbox.INBOUND, {"grievance": case.name}), 6)

		# the worker opted into stage notices: a change of stage reaches their phone
		frappe.set_user(PUK_GUIDED)
		act(frappe.get_doc("Grievance", case.name), "Verify")
		frappe.set_user("Administrator")
		frappe.db.commit()
		self.deliver(number)
		notice = self.last(number)
		self.assertEqual(notice["json"]["type"], "text")
		self.assertIn("Kasus Anda kini pada tahap", body_text(notice))
		# outside the 24-hour window: the approved notice template, with the stage as its parameter
		frappe.db.set_value(
			"Case Message",
			{"grievance": case.name, "direction": "From Worker"},
			"sent_on",
			now_datetime() - timedelta(hours=25),
		)
		frappe.db.set_single_value(whatsapp.SETTINGS, "notice_template", "tahap_kasus")
		frappe.db.commit()
		frappe.set_user(PUK_GUIDED)
		act(frappe.get_doc("Grievance", case.name), "Investigate")
		frappe.set_user("Administrator")
		frappe.db.commit()
		self.deliver(number)
		template = self.last(number)["json"]
		self.assertEqual(template["type"], "template")
		self.assertEqual(template["template"]["name"], "tahap_kasus")
		self.assertTrue(template["template"]["components"][0]["parameters"][0]["text"])

	def test_english_on_request_a_known_member_skips_the_workplace_and_the_custodian_alone_sees_the_number(
		self,
	):
		number = fresh_number()
		member = frappe.get_doc(
			{
				"doctype": "Union Member",
				"workplace_union": "T PUK Bogor Dua",
				"full_name": "Sri Guided Member " + secrets.token_hex(3),
				"phone": f"+{number}",
			}
		).insert()
		frappe.db.commit()
		self.say(number, "English")
		welcome, what = self.received(number)
		self.assertIn("this is your union", body_text(welcome))
		self.assertIn("What happened?", body_text(what), "a known member is not asked for the workplace")
		self.say(number, "My supervisor shouted at me and cut my wages.")
		self.assertIn("anonymously or with your name", body_text(self.last(number)))
		self.send(tap(number, "named", "With my name"))
		consent_text = self.received(number)[-2]
		self.assertIn("The union records your name", body_text(consent_text), "the English consent text")
		self.say(number, "yes")
		opened = self.say(number, "2")  # no stage notices
		case = frappe.get_doc("Grievance", opened.grievance)
		self.assertEqual(
			(case.is_anonymous, case.member, case.owning_union), (0, member.name, "T PUK Bogor Dua")
		)
		self.assertEqual(case.reporter_phone, f"+{number}")
		self.assertTrue(case.consent_text_version.endswith("en"))
		self.assertIn("Your tracking code is", body_text(self.last(number)))

		digits = number[4:]
		official = RestSession(BOGOR_BRANCH)
		custodian = RestSession(CUSTODIAN)
		for path in (
			f"/api/resource/Grievance/{case.name}",
			"/api/method/unioncase.intake.conversation.get_conversation",
		):
			page = official.get(path, case=case.name)
			self.assertEqual(page.status_code, 200, path)
			self.assertNotIn(digits, page.text, path)
			self.assertIn(case.reporter_pseudonym, official.get(f"/api/resource/Grievance/{case.name}").text)
		seen = custodian.get(f"/api/resource/Grievance/{case.name}")
		self.assertEqual(seen.status_code, 200)
		self.assertEqual(seen.json()["data"]["reporter_phone"], f"+{number}", "the custodian sees the number")
		self.assertEqual(official.get(f"/api/resource/{guided.CONVERSATION}").status_code, 403)

		# no stage notices asked for: a change of stage sends nothing
		sent_before = len(self.received(number))
		frappe.set_user(PUK_BOGOR2)
		act(frappe.get_doc("Grievance", case.name), "Verify")
		frappe.set_user("Administrator")
		frappe.db.commit()
		self.deliver(number)
		self.assertFalse(
			frappe.db.exists("Case Message", {"grievance": case.name, "purpose": guided.STAGE_NOTICE})
		)
		self.assertEqual(len(self.received(number)), sent_before)

	def test_a_conversation_resumes_expires_and_a_person_can_be_asked_for(self):
		number = fresh_number()
		self.say(number, "Halo")
		self.say(number, "2")  # T PUK Bogor Satu, by number
		state = self.conversation_of(number)
		self.assertEqual(state.step, "what")
		# the worker stops, and later continues where they were: no new welcome
		sent = len(self.received(number))
		self.say(number, "Saya dipaksa lembur tanpa dibayar.")
		self.assertEqual(len(self.received(number)), sent + 1)
		self.assertIn("anonim", body_text(self.last(number)).lower())
		self.assertEqual(self.conversation_of(number).step, "anonymity")
		# a reply that answers nothing is said so, and the question comes again
		self.say(number, "hmm")
		self.assertIn("Maaf", body_text(self.received(number)[-2]))

		# a day and more later: what the unfinished conversation held is gone, it starts again
		old = self.conversation_of(number)
		frappe.db.set_value(
			guided.CONVERSATION, old.name, "last_inbound_on", now_datetime() - timedelta(hours=25)
		)
		frappe.db.commit()
		self.say(number, "Halo lagi")
		expired, welcome = self.received(number)[-3:-1]
		self.assertIn("24 jam", body_text(expired))
		self.assertIn("serikat", body_text(welcome))
		self.assertFalse(
			frappe.db.exists(handle.HANDLE, old.contact_handle), "the old number handle is deleted"
		)
		self.assertEqual(
			frappe.db.count(
				"Case Message", {"intake_conversation": old.name, "content": ["like", "%dipaksa lembur%"]}
			),
			0,
		)
		self.assertEqual(self.conversation_of(number).step, "workplace")

		# "0": the case opens at once with what is known, for an official to triage
		opened = self.say(number, "0")
		case = frappe.get_doc("Grievance", opened.grievance)
		self.assertEqual((case.owning_union, case.is_anonymous, case.consent_given), (BRANCH, 1, 0))
		self.assertTrue(
			frappe.db.exists(
				"Comment", {"reference_name": case.name, "content": ["like", "%asked for a person%"]}
			)
		)
		human, ack = self.received(number)[-2:]
		self.assertIn("pengurus", body_text(human).lower())
		self.assertIn("Kode pelacakan", body_text(ack))

		# a follow-up joins the open case; BARU starts a new conversation
		again = self.say(number, "Ini tambahan informasi soal lembur.")
		self.assertEqual(again.grievance, case.name)
		fresh = self.say(number, "BARU")
		self.assertIsNone(fresh.grievance)
		self.assertEqual(self.conversation_of(number).state, "Active")
		second = self.say(number, "MANUSIA")
		self.assertNotEqual(second.grievance, case.name)

	def test_a_branch_with_many_workplaces_asks_for_the_name_and_lists_the_matches(self):
		self.number_id = MANY_NUMBER_ID
		number = fresh_number()
		self.say(number, "Halo")
		self.assertEqual(self.last(number)["json"]["type"], "text")
		self.assertIn("Tulis nama tempat kerja", body_text(self.last(number)))
		self.say(number, "sari")  # two workplaces have the word: a list of those two
		rows = interactive_of(self.last(number))["action"]["sections"][0]["rows"]
		self.assertEqual(len(rows), 4, rows)
		titles = {row["id"]: row.get("description") or row["title"] for row in rows}
		self.assertEqual(
			sorted(titles[row["id"]] for row in rows[:2]), ["T PUK Banyak Sari Dua", "T PUK Banyak Sari Satu"]
		)
		chosen = next(row for row in rows if titles[row["id"]] == "T PUK Banyak Sari Dua")
		self.send(tap(number, chosen["id"], chosen["title"], kind="list_reply"))
		self.assertEqual(self.conversation_of(number).step, "what")
		opened = self.say(number, "0")
		self.assertEqual(
			frappe.db.get_value("Grievance", opened.grievance, "owning_union"), "T PUK Banyak Sari Dua"
		)
		# one match: chosen at once
		other = fresh_number()
		self.say(other, "Halo")
		self.say(other, "bravo")
		self.assertEqual(self.conversation_of(other).step, "what")
		bravo = self.say(other, "MANUSIA").grievance
		self.assertEqual(frappe.db.get_value("Grievance", bravo, "owning_union"), "T PUK Banyak Bravo")
		# none: the name as the worker wrote it, and the case in the receiving union
		third = fresh_number()
		self.say(third, "Halo")
		self.say(third, "PT Tidak Dikenal")
		case = self.say(third, "0").grievance
		self.assertEqual(frappe.db.get_value("Grievance", case, "owning_union"), MANY)
		self.assertIn("PT Tidak Dikenal", frappe.db.get_value("Grievance", case, "description"))

	def test_declining_consent_keeps_nothing(self):
		number = fresh_number()
		self.say(number, "Atasan saya melakukan pelecehan di gudang belakang.")
		self.say(number, "1")
		self.send(tap(number, "anonymous", "Anonim"))
		state = self.conversation_of(number)
		self.assertEqual(state.step, "consent")
		declined = self.send(tap(number, "decline", "Saya tidak setuju"))
		self.assertIsNone(declined.grievance)
		self.assertIn("tidak menyimpan", body_text(self.last(number)))
		state = self.conversation_of(number)
		self.assertEqual((state.state, state.answers), ("Declined", None))
		self.assertFalse(frappe.db.exists("Grievance", {"description": ["like", "%pelecehan di gudang%"]}))
		self.assertFalse(frappe.db.exists("Case Message", {"content": ["like", "%pelecehan di gudang%"]}))
		guided.expire_stale_conversations()
		self.assertFalse(frappe.db.exists(handle.HANDLE, state.contact_handle), "the number goes too")

	def test_photos_and_voice_notes_sent_before_the_case_exists_are_kept_on_it_when_it_opens(self):
		number, self.number_id = fresh_number(), GUIDED_NUMBER_ID
		self.provider.media.update({"G-PHOTO": PNG, "G-VOICE": b"OggS\x00\x02" + b"\x00" * 64})
		photo = text_message(
			number, "", kind="image", id="G-PHOTO", mime_type="image/png", caption="Slip gaji"
		)
		self.assertIsNone(self.send(photo).grievance, "a photo first: the questions still come")
		self.assertEqual(self.provider.media_requests(), [], "nothing fetched while no case exists")
		self.send(tap(number, "wp2", "T PUK Terpandu Satu", kind="list_reply"))
		self.assertIn("anonim", body_text(self.last(number)).lower(), "the photo's caption said what")
		voice = text_message(number, "", kind="audio", id="G-VOICE", mime_type="audio/ogg; codecs=opus")
		gone = text_message(number, "", kind="document", id="G-GONE", mime_type="application/pdf")
		for media in (voice, gone):  # between two questions: kept with the conversation
			self.assertIsNone(self.send(media).grievance)
		self.assertEqual(self.conversation_of(number).step, "anonymity")
		self.send(tap(number, "anonymous", "Anonim"))
		self.send(tap(number, "agree", "Saya setuju"))
		opened = self.send(tap(number, "no", "Tidak"))
		self.assertTrue(opened.grievance)
		kept = frappe.get_all(
			"File",
			filters={"attached_to_doctype": "Grievance", "attached_to_name": opened.grievance},
			fields=["file_name", "is_private"],
			order_by="file_name asc",
		)
		self.assertEqual(sorted(f.file_name.rsplit(".", 1)[1] for f in kept), ["ogg", "png"], kept)
		self.assertTrue(all(f.is_private for f in kept))
		self.assertEqual(sorted(self.provider.media_requests()), ["G-GONE", "G-PHOTO", "G-VOICE"])
		self.assertTrue(
			frappe.db.exists(
				"Comment",
				{"reference_name": opened.grievance, "content": ["like", "%could not be downloaded%"]},
			),
			"a file that could not be fetched is said so on the case",
		)
		self.assertIn("Slip gaji", frappe.db.get_value("Grievance", opened.grievance, "description"))
		# a photo sent after the case opened goes straight onto it
		self.provider.media["G-LATER"] = PNG
		later = text_message(number, "", kind="image", id="G-LATER", mime_type="image/png")
		self.assertEqual(self.send(later).grievance, opened.grievance)
		self.assertEqual(
			frappe.db.count(
				"File", {"attached_to_doctype": "Grievance", "attached_to_name": opened.grievance}
			),
			3,
		)

	def test_a_context_reply_joins_the_quoted_case_and_only_for_its_worker(self):
		number = fresh_number()
		first = self.open_for_triage(number)
		ack_id = frappe.db.get_value(
			"Case Message", {"grievance": first, "purpose": guided.ACKNOWLEDGEMENT}, "provider_message_id"
		)
		self.say(number, "BARU")
		second = self.open_for_triage(number, "0")
		self.assertNotEqual(first, second)
		quoted = self.say(number, "Soal kasus pertama: mandor sudah minta maaf.", context={"id": ack_id})
		self.assertEqual(quoted.grievance, first, "the quoted message's case, not the newest one")
		plain = self.say(number, "Dan ini soal kasus kedua.")
		self.assertEqual(plain.grievance, second)
		# another number quoting the same id joins nothing of this worker's
		stranger = fresh_number()
		other = self.say(stranger, "MANUSIA", context={"id": ack_id})
		self.assertNotIn(other.grievance, (first, second))

	def test_a_changed_number_moves_the_handle_and_the_conversation_continues(self):
		number, new = fresh_number(), fresh_number()
		case = self.open_for_triage(number)
		system = text_message(
			number,
			"",
			kind="system",
			body="Pekerja changed from A to B",
			wa_id=new,
			type="user_changed_number",
		)
		stored = self.send(system)
		self.assertEqual(stored.grievance, case)
		contact = handle.for_case(case)
		self.assertEqual(handle.resolve(contact.name), f"+{new}")
		self.assertEqual(
			frappe.db.get_value(handle.HANDLE, contact.name, "address_hash"), handle.address_hash(f"+{new}")
		)
		self.assertEqual(self.say(new, "Nomor baru saya, kasus tetap sama.").grievance, case)
		official = RestSession(BOGOR_BRANCH)
		answer = official.post(
			"/api/method/unioncase.intake.conversation.reply",
			case=case,
			message="Baik, kami catat.",
			channel="WhatsApp",
		)
		self.assertEqual(answer.status_code, 200, answer.text)
		frappe.db.commit()  # see what the server stored
		self.deliver(new)
		self.assertEqual(body_text(self.last(new)), "Baik, kami catat.")
		self.assertNotIn(new[4:], answer.text)

	def test_the_receiving_number_routes_the_case_and_a_sibling_union_sees_none_of_it(self):
		number = fresh_number()
		message = text_message(number, "MANUSIA")
		opened = self.send(message, number_id=RIAU_NUMBER_ID)
		case = opened.grievance
		self.assertEqual(frappe.db.get_value("Grievance", case, "owning_union"), RIAU)
		self.assertTrue(all(r["path"] == f"/v20.0/{RIAU_NUMBER_ID}/messages" for r in self.received(number)))
		self.assertTrue(self.received(number), "answered from the number the worker wrote to")
		# the default number's message goes to the default union
		other = self.send(text_message(fresh_number(), "0"))
		self.assertEqual(frappe.db.get_value("Grievance", other.grievance, "owning_union"), BRANCH)

		riau, bogor = RestSession(RIAU_BRANCH), RestSession(BOGOR_BRANCH)
		probes = {
			"document": lambda s: s.get(f"/api/resource/Grievance/{case}").status_code,
			"list": lambda s: len(
				s.get("/api/resource/Grievance", filters=[["name", "=", case]]).json()["data"]
			),
			"count": lambda s: s.get(
				"/api/method/frappe.client.get_count", doctype="Grievance", filters=[["name", "=", case]]
			).json()["message"],
			"conversation": lambda s: (
				s.get("/api/method/unioncase.intake.conversation.get_conversation", case=case).status_code
			),
			"case messages": lambda s: len(
				s.get("/api/resource/Case Message", filters=[["grievance", "=", case]]).json().get("data", [])
			),
			"inbound messages": lambda s: len(
				s.get("/api/resource/Inbound Message", filters=[["grievance", "=", case]])
				.json()
				.get("data", [])
			),
			"reply": lambda s: (
				s.post(
					"/api/method/unioncase.intake.conversation.reply",
					case=case,
					message="Halo",
					channel="WhatsApp",
				).status_code
			),
		}
		seen = {name: probe(riau) for name, probe in probes.items()}
		self.assertEqual(
			seen,
			{
				"document": 200,
				"list": 1,
				"count": 1,
				"conversation": 200,
				"case messages": 3,
				"inbound messages": 1,
				"reply": 200,
			},
		)
		hidden = {name: probe(bogor) for name, probe in probes.items()}
		self.assertEqual(
			hidden,
			{
				"document": 403,
				"list": 0,
				"count": 0,
				"conversation": 403,
				"case messages": 0,
				"inbound messages": 0,
				"reply": 403,
			},
		)

	@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
	@example([("Halo", None), ("²", None)])  # a digit that is not a number: int() refused it
	@given(
		st.lists(
			st.one_of(
				st.sampled_from(
					["Halo", "1", "2", "3", "9", "0", "EN", "ID", "BARU", "ya", "tidak", "", "MANUSIA"]
				).map(lambda text: (text, None)),
				st.sampled_from(
					["wp1", "wp0", "anonymous", "named", "agree", "decline", "yes", "no", "x"]
				).map(lambda reply: ("", reply)),
				st.text(max_size=60).map(lambda text: (text, None)),
			),
			min_size=1,
			max_size=8,
		)
	)
	def test_any_sequence_of_answers_is_processed_and_opens_at_most_one_case_per_conversation(self, answers):
		number = fresh_number()
		cases = set()
		for text, reply in answers:
			if reply:
				message = tap(number, reply, reply)
			else:
				message = text_message(number, text)
			payload = {"message": message, "contact": None, "metadata": {"phone_number_id": PHONE_NUMBER_ID}}
			name, _created = inbox.receive("WhatsApp", message["id"], payload, summary="property")
			self.assertEqual(
				inbox.process_message(name), "Processed", frappe.db.get_value(inbox.INBOUND, name, "error")
			)
			grievance = frappe.db.get_value(inbox.INBOUND, name, "grievance")
			if grievance:
				cases.add(grievance)
		news = sum(1 for text, reply in answers if guided.command_of(text, reply) == "new")
		self.assertLessEqual(len(cases), news + 1, "a case per conversation, no more")
		for case in cases:
			self.assertEqual(frappe.db.get_value("Grievance", case, "channel"), "WhatsApp")
			self.assertEqual(frappe.db.count(handle.HANDLE, {"grievance": case}), 1)
		state = self.conversation_of(number)
		self.assertNotIn(number[4:], json.dumps(state, default=str))
		get_queue("short").empty()

	def test_prompts_render_as_numbered_text_and_every_prompt_is_translated(self):
		rendered = guided.as_text(
			"Pilih:",
			{
				"kind": "buttons",
				"options": [{"id": "a", "title": "Anonim"}, {"id": "human", "title": "Hubungi pengurus"}],
			},
		)
		self.assertEqual(rendered, "Pilih:\n\n1. Anonim\n0. Hubungi pengurus")
		from frappe.translate import get_translation_dict_from_file

		translations = get_translation_dict_from_file(
			frappe.get_app_path("unioncase", "translations", "id.csv"), "id", "unioncase"
		)
		data = guided.prompts()
		texts = [
			data["human_option"]["title"],
			data["other_workplace"]["title"],
			data["other_workplace"]["description"],
		]
		for entry in data["prompts"].values():
			if isinstance(entry, str):
				texts.append(entry)
				continue
			texts += [entry["text"], *(o["title"] for o in entry.get("options", []))]
			if entry.get("button"):
				texts.append(entry["button"])
		texts.append("Your case is now at the stage: {0}.")
		missing = [text for text in texts if not translations.get(text)]
		self.assertEqual(missing, [])
		for entry in data["prompts"].values():
			for option in entry.get("options", []) if isinstance(entry, dict) else []:
				self.assertLessEqual(len(option["title"]), 20, option)
				self.assertLessEqual(len(translations[option["title"]]), 20, option)


def remove_test_unions():
	"""The branches this class added, with their cases: other suites' oracles know only hierarchy_data's
	tree. Rows are deleted directly (no worker runs beside the tests to take delete_doc's jobs)."""
	unions = [*GUIDED_WORKPLACES, *MANY_WORKPLACES, GUIDED, MANY]
	cases = frappe.get_all("Grievance", filters={"owning_union": ["in", unions]}, pluck="name") or [""]
	handles = frappe.get_all(handle.HANDLE, filters={"grievance": ["in", cases]}, pluck="name") or [""]
	frappe.db.delete("__Auth", {"doctype": handle.HANDLE, "name": ["in", handles]})
	for doctype in (handle.HANDLE, "Case Message", inbox.INBOUND, guided.CONVERSATION):
		frappe.db.delete(doctype, {"grievance": ["in", cases]})
	for doctype, column in (
		("Comment", "reference_name"),
		("Version", "docname"),
		("Consent Event", "reference_name"),
	):
		frappe.db.delete(doctype, {column: ["in", cases]})
	frappe.db.delete("Grievance", {"name": ["in", cases]})
	summary.prune(commit=False)  # the analytics table forgets cases deleted past the hooks
	frappe.db.delete("WhatsApp Number Route", {"parent": whatsapp.SETTINGS})
	frappe.db.delete("User Permission", {"allow": "Union", "for_value": ["in", unions]})
	frappe.db.delete("Assignment Rule", {"name": ["in", [f"Grievance: {union}" for union in unions]]})
	frappe.db.delete("Union", {"name": ["in", unions]})
	frappe.db.commit()
