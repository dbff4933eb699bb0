"""The guided first contact by SMS: real authenticated posts over HTTP to the running site, the loopback SMS
gateway stand-in (unioncase/tests/sms_gateway.py) recording every SMS the worker's phone received, the
database what was kept. The same conversation as WhatsApp's (guided.py), its questions as numbered SMS."""

import json
import secrets
from datetime import timedelta

import frappe
from frappe.utils import now_datetime
from frappe.utils.background_jobs import get_queue

from unioncase.compat import IntegrationTestCase
from unioncase.intake import conversation, guided, handle, inbox, sms, tracking
from unioncase.intake.test_sms import message, post_sms, run_inbox
from unioncase.reports import summary
from unioncase.tests.hierarchy_data import ensure_hierarchy, make_official
from unioncase.tests.rest_client import RestSession
from unioncase.tests.sms_gateway import SmsGateway, configure
from unioncase.tests.workflow_steps import act

BRANCH = "T Cabang Bogor"
WORKPLACE = "T PUK Bogor Satu"
PUK_BOGOR1 = "t.puk.bogor1@test.unioncase.org"
PUK_BOGOR2 = "t.puk.bogor2.sms@test.unioncase.org"
BOGOR_BRANCH = "t.branch.bogor@test.unioncase.org"
CONSENT_PARTS = 4  # the default consent text (about 430 characters) with its heading


def new_number() -> str:
	return "+62815" + "".join(secrets.choice("0123456789") for _ in range(8))


class TestGuidedSMS(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		make_official(PUK_BOGOR1, "Workplace Union Official", WORKPLACE)
		make_official(BOGOR_BRANCH, "Branch Official", BRANCH)
		make_official(PUK_BOGOR2, "Workplace Union Official", "T PUK Bogor Dua")
		cls.gateway = SmsGateway()
		configure(cls.gateway, BRANCH, guided_intake=1, conversation_expiry_hours=24)
		cls.numbers, cls.members, cls.message_ids = [], [], []

	@classmethod
	def tearDownClass(cls):
		remove_conversations(cls.numbers, cls.message_ids)
		for member in cls.members:
			frappe.delete_doc("Union Member", member, force=True, ignore_permissions=True)
		cls.gateway.stop()
		frappe.db.set_single_value(sms.SETTINGS, "conversation_expiry_hours", 24)
		get_queue(inbox.QUEUE).empty()
		get_queue("short").empty()
		frappe.db.commit()
		super().tearDownClass()

	def setUp(self):
		self.gateway.requests.clear()
		self.gateway.answers.clear()

	def tearDown(self):
		frappe.set_user("Administrator")
		# no worker runs beside the tests: the jobs the posts and prompts queued (run here) would pile up
		get_queue(inbox.QUEUE).empty()
		get_queue("short").empty()

	# --- the worker's phone ------------------------------------------------------------------------

	def number(self) -> str:
		number = new_number()
		self.numbers.append(number)
		return number

	def say(self, number: str, text: str) -> frappe._dict:
		"""The worker's SMS, posted signed as the gateway does, processed by the inbox's job, and what it
		queued delivered through the stand-in gateway."""
		sent = message(number, text)
		self.message_ids.append(sent["messageId"])
		answer = post_sms(sent)
		self.assertEqual(answer.status_code, 200, answer.text)
		stored = run_inbox(sent["messageId"])
		self.assertEqual(stored.state, "Processed", stored.state_reason)
		contacts = frappe.get_all(
			handle.HANDLE, filters={"address_hash": handle.address_hash(number)}, pluck="name"
		)
		for name in frappe.get_all(
			conversation.CASE_MESSAGE,
			filters={"contact_handle": ["in", contacts or [""]], "delivery_status": "Queued"},
			pluck="name",
			order_by="creation asc",
		):
			self.assertEqual(
				conversation.deliver(name), "Sent", frappe.db.get_value("Case Message", name, "error")
			)
		return stored

	def received(self, number: str) -> list[str]:
		"""The SMS the worker's phone got since the test began, oldest first."""
		return [r["params"]["text"] for r in self.gateway.requests if r["params"]["to"] == number]

	def last(self, number: str) -> str:
		return self.received(number)[-1]

	def conversation_of(self, number: str):
		return frappe.db.get_value(
			guided.CONVERSATION,
			{"address_hash": handle.address_hash(number), "channel": "SMS"},
			["name", "state", "step", "language", "answers", "grievance", "contact_handle", "first_inbound"],
			as_dict=True,
		)

	def assertShort(self, text: str, parts: int = 2):
		self.assertEqual(sms.encoding_of(text), sms.GSM7, text)
		self.assertLessEqual(len(sms.segments(text)), parts, text)

	# --- the conversation --------------------------------------------------------------------------

	def test_a_guided_sms_conversation_opens_a_case_in_the_chosen_workplace_with_the_code(self):
		number = self.number()
		first = self.say(number, "Halo")
		self.assertIsNone(first.grievance, "no case before the questions are answered")
		welcome, workplace = self.received(number)
		self.assertIn("serikat", welcome.lower(), "Bahasa Indonesia by default")
		self.assertIn("Kirim 0", welcome)
		# the branch's workplaces (other suites may have added some), numbered, then another, a person
		listed = [w["title"] for w in guided.workplaces(BRANCH)]
		self.assertIn(WORKPLACE, listed)
		choice = str(listed.index(WORKPLACE) + 1)
		self.assertEqual(
			workplace.splitlines()[-len(listed) - 2 :],
			[
				*(f"{n}. {title}" for n, title in enumerate(listed, 1)),
				f"{len(listed) + 1}. Tidak ada di daftar",
				"0. Hubungi pengurus",
			],
			"numbered choices, 0 for a person",
		)
		state = self.conversation_of(number)
		self.assertEqual((state.state, state.step, state.language), ("Active", "workplace", "id"))
		self.assertNotIn(number[4:], json.dumps(state, default=str), "the conversation holds no number")

		self.say(number, choice)
		self.assertIn("Apa yang terjadi", self.last(number))
		self.say(number, "Upah lembur bulan November belum dibayar untuk seluruh bagian jahit.")
		anonymity = self.last(number)
		self.assertIn("anonim", anonymity.lower())
		self.assertEqual(anonymity.splitlines()[-3][:3], "1. ")
		self.assertTrue(anonymity.endswith("0. Hubungi pengurus"))
		self.say(number, "1")  # anonymous
		consent_text, consent = self.received(number)[-2:]
		version = frappe.db.get_value(
			"Consent Text", {"language": "id"}, "name", order_by="effective_from desc, creation desc"
		)
		self.assertIn(frappe.db.get_value("Consent Text", version, "text")[:60], consent_text)
		self.assertShort(consent_text, CONSENT_PARTS)
		self.assertIn("1. ", consent)
		self.say(number, "ya")  # yes/no words are understood too
		self.assertIn("tahap", self.last(number))
		opened = self.say(number, "2")  # no stage notices

		self.assertTrue(opened.grievance)
		case = frappe.get_doc("Grievance", opened.grievance)
		self.assertEqual(
			(case.owning_union, case.workplace_union, case.channel, case.is_anonymous),
			(WORKPLACE, WORKPLACE, "SMS", 1),
		)
		self.assertIn("Upah lembur bulan November", case.description)
		self.assertEqual((case.consent_given, case.consent_text_version), (1, version))
		self.assertTrue(
			frappe.db.exists(
				"Consent Event",
				{"reference_doctype": "Grievance", "reference_name": case.name, "consent_text": version},
			)
		)
		self.assertTrue(case.reporter_pseudonym)
		self.assertFalse(case.reporter_phone)
		self.assertNotIn(number[4:], json.dumps(case.as_dict(), default=str))
		ack = self.last(number)
		code = tracking.display(guided.tracking_code(self.conversation_of(number).first_inbound))
		self.assertIn(code, ack)
		self.assertIn("Kode pelacakan", ack)
		self.assertEqual(len(sms.segments(ack)), 1, "the acknowledgement fits one SMS")
		self.assertEqual(handle.case_for_code_hash(tracking.code_hash(tracking.normalise(code))), case.name)
		contact = handle.for_case(case.name)
		self.assertEqual(handle.resolve(contact.name), number)
		self.assertEqual(frappe.db.get_value(handle.HANDLE, contact.name, "stage_notices"), 0)
		# every SMS of the conversation but the consent text fits two parts of GSM-7
		for text in self.received(number):
			if text != consent_text:
				self.assertShort(text)
		# the exchange is on the case, officials read it (the code and the number never)
		self.assertEqual(
			frappe.db.count("Case Message", {"grievance": case.name, "direction": "From Worker"}), 6
		)
		self.assertEqual(frappe.db.count(inbox.INBOUND, {"grievance": case.name}), 6)
		official = RestSession(PUK_BOGOR1)
		page = official.get("/api/method/unioncase.intake.conversation.get_conversation", case=case.name)
		self.assertEqual(page.status_code, 200, page.text)
		self.assertIn("Upah lembur", page.text)
		self.assertNotIn(number[4:], page.text)
		self.assertNotIn(code, page.text)

		# a follow-up joins the open case; nothing is asked again
		sent = len(self.received(number))
		again = self.say(number, "Ini tambahan: slip gaji saya tidak mencatat lembur.")
		self.assertEqual(again.grievance, case.name)
		self.assertEqual(len(self.received(number)), sent)

	def test_a_conversation_left_halfway_resumes_and_expires_by_the_sms_setting(self):
		number = self.number()
		self.say(number, "Halo")
		self.say(number, "1")  # T PUK Bogor Dua
		self.assertEqual(self.conversation_of(number).step, "what")
		# hours later (within the day) the worker goes on where they stopped: no new welcome
		state = self.conversation_of(number)
		frappe.db.set_value(
			guided.CONVERSATION, state.name, "last_inbound_on", now_datetime() - timedelta(hours=5)
		)
		frappe.db.commit()
		sent = len(self.received(number))
		self.say(number, "Saya dipaksa lembur tanpa dibayar.")
		self.assertEqual(len(self.received(number)), sent + 1)
		self.assertIn("anonim", self.last(number).lower())
		self.assertEqual(self.conversation_of(number).step, "anonymity")
		self.say(number, "7")  # no such choice: said so, and asked again
		sorry, again = self.received(number)[-2:]
		self.assertIn("Maaf", sorry)
		self.assertIn("anonim", again.lower())

		# the SMS channel's own expiry: two hours after the last SMS, with 1 hour set, it starts again
		frappe.db.set_single_value(sms.SETTINGS, "conversation_expiry_hours", 1)
		old = self.conversation_of(number)
		frappe.db.set_value(
			guided.CONVERSATION, old.name, "last_inbound_on", now_datetime() - timedelta(hours=2)
		)
		frappe.db.commit()
		self.say(number, "Halo lagi")
		expired, welcome, _workplace = self.received(number)[-3:]
		self.assertIn("1 jam", expired)
		self.assertIn("serikat", welcome)
		self.assertFalse(frappe.db.exists(handle.HANDLE, old.contact_handle), "the old handle is gone")
		self.assertEqual(
			frappe.db.count(
				"Case Message", {"intake_conversation": old.name, "content": ["like", "%dipaksa lembur%"]}
			),
			0,
		)
		self.assertEqual(self.conversation_of(number).step, "workplace")
		frappe.db.set_single_value(sms.SETTINGS, "conversation_expiry_hours", 24)
		frappe.db.commit()

	def test_0_reaches_a_person_at_once_and_baru_starts_a_new_report(self):
		number = self.number()
		self.say(number, "Halo")
		opened = self.say(number, "0")
		self.assertTrue(opened.grievance, "0 opens the case at once for triage")
		case = frappe.get_doc("Grievance", opened.grievance)
		self.assertEqual(
			(case.owning_union, case.channel, case.is_anonymous, case.consent_given), (BRANCH, "SMS", 1, 0)
		)
		self.assertTrue(
			frappe.db.exists(
				"Comment", {"reference_name": case.name, "content": ["like", "%asked for a person%"]}
			)
		)
		human, ack = self.received(number)[-2:]
		self.assertIn("pengurus", human.lower())
		self.assertIn("Kode pelacakan", ack)
		# an official's reply from the case reaches the worker's phone by SMS
		answer = RestSession(BOGOR_BRANCH).post(
			"/api/method/unioncase.intake.conversation.reply",
			case=case.name,
			message="Kami akan menghubungi Anda besok pagi.",
		)
		self.assertEqual(answer.status_code, 200, answer.text)
		self.assertEqual(answer.json()["message"]["channel"], "SMS")
		frappe.db.commit()
		self.assertEqual(conversation.deliver(answer.json()["message"]["name"]), "Sent")
		self.assertEqual(self.last(number), "Kami akan menghubungi Anda besok pagi.")

		again = self.say(number, "Terima kasih, saya tunggu.")
		self.assertEqual(again.grievance, case.name, "a follow-up joins the open case")
		fresh = self.say(number, "BARU")
		self.assertIsNone(fresh.grievance)
		self.assertEqual(self.conversation_of(number).state, "Active")
		second = self.say(number, "MANUSIA")
		self.assertNotEqual(second.grievance, case.name)

	def test_english_on_request_numbered_replies_and_a_known_member_skips_the_workplace(self):
		number = self.number()
		member = frappe.get_doc(
			{
				"doctype": "Union Member",
				"workplace_union": "T PUK Bogor Dua",
				"full_name": "Sri SMS Member " + secrets.token_hex(3),
				"phone": number,
			}
		).insert()
		self.members.append(member.name)
		frappe.db.commit()
		self.say(number, "EN")
		welcome, what = self.received(number)
		self.assertIn("This is your union", welcome)
		self.assertIn("What happened?", what, "a known member is not asked for the workplace")
		self.say(number, "My supervisor shouted at me and cut my wages.")
		anonymity = self.last(number)
		self.assertIn("anonymously or with your name", anonymity)
		self.assertEqual(
			anonymity.splitlines()[-3:], ["1. Anonymous", "2. With my name", "0. Talk to a person"]
		)
		self.say(number, "2")  # named
		consent_text, consent = self.received(number)[-2:]
		self.assertIn("The union records your name", consent_text, "the English consent text")
		self.assertIn("1. I agree", consent)
		# back to Bahasa Indonesia on request: the same question, in Indonesian numbered lines
		self.say(number, "ID")
		switched, asked = self.received(number)[-3], self.last(number)
		self.assertIn("Bahasa Indonesia", switched)
		self.assertIn("1. Saya setuju", asked)
		self.say(number, "1")
		opened = self.say(number, "1")  # stage notices, yes
		case = frappe.get_doc("Grievance", opened.grievance)
		self.assertEqual(
			(case.is_anonymous, case.member, case.owning_union, case.channel),
			(0, member.name, "T PUK Bogor Dua", "SMS"),
		)
		self.assertEqual(case.reporter_phone, number, "named: an identity field, for custodians")
		self.assertIn("Kode pelacakan", self.last(number))
		# the worker asked for notices: a change of stage reaches their phone by SMS, in their language
		frappe.set_user(PUK_BOGOR2)
		act(frappe.get_doc("Grievance", case.name), "Verify")
		frappe.set_user("Administrator")
		frappe.db.commit()
		notice = frappe.db.get_value(
			"Case Message",
			{"grievance": case.name, "purpose": guided.STAGE_NOTICE},
			["name", "channel"],
			as_dict=True,
		)
		self.assertEqual(notice.channel, "SMS")
		self.assertEqual(conversation.deliver(notice.name), "Sent")
		self.assertIn("Kasus Anda kini pada tahap", self.last(number))

	def test_the_consent_text_reaches_the_worker_whole_even_past_most_parts_per_message(self):
		frappe.db.set_single_value(sms.SETTINGS, "max_parts", 2)
		frappe.db.commit()
		try:
			number = self.number()
			for text in ("Halo", "1", "Mandor membentak dan mengancam memecat saya.", "1"):
				self.say(number, text)  # each queued SMS delivered ("Sent"), the consent text too
			consent_text = self.received(number)[-2]
			self.assertGreater(len(sms.segments(consent_text)), 2)
			version = frappe.db.get_value(
				"Consent Text", {"language": "id"}, "name", order_by="effective_from desc, creation desc"
			)
			self.assertIn(frappe.db.get_value("Consent Text", version, "text")[-40:], consent_text, "whole")
			# an official's reply still keeps to the limit
			self.assertIsNotNone(sms.too_long("x" * 400))
		finally:
			frappe.db.set_single_value(sms.SETTINGS, "max_parts", 6)
			frappe.db.commit()

	def test_with_guided_first_contact_off_a_first_sms_opens_a_case_at_once(self):
		frappe.db.set_single_value(sms.SETTINGS, "guided_intake", 0)
		frappe.db.commit()
		try:
			number = self.number()
			stored = self.say(number, "Gaji saya dipotong tanpa alasan sejak Oktober.")
			self.assertTrue(stored.grievance)
			self.assertIsNone(self.conversation_of(number))
			self.assertIn("Kode pelacakan", self.last(number))
		finally:
			frappe.db.set_single_value(sms.SETTINGS, "guided_intake", 1)
			frappe.db.commit()

	def test_every_sms_prompt_fits_two_gsm7_parts_in_both_languages(self):
		data = guided.prompts()
		options = {
			"kind": "list",
			"options": [
				*({"id": f"wp{n}", "title": "T PUK Nama Tempat Kerja Panjang"} for n in range(1, 9)),
				data["other_workplace"],
				data["human_option"],
			],
		}
		for language in guided.LANGUAGES:
			conv = frappe._dict(channel="SMS", language=language)
			for entry in data["prompts"].values():
				text = guided.in_language(guided.text_of(conv, entry), language)
				if isinstance(entry, dict) and entry.get("options"):
					choices = [*entry["options"], data["human_option"]]
					titles = [
						{"id": o["id"], "title": guided.in_language(o["title"], language)} for o in choices
					]
					text = guided.as_text(text, {"kind": "buttons", "options": titles})
				self.assertShort(text.replace("{0}", "24"))
			# a branch's full list of workplaces, numbered
			self.assertLessEqual(len(sms.segments(guided.as_text("Where do you work?", options))), 3)
		# the WhatsApp prompts keep their full text
		self.assertNotEqual(
			guided.text_of(frappe._dict(channel="WhatsApp"), data["prompts"]["anonymity"]),
			guided.text_of(frappe._dict(channel="SMS"), data["prompts"]["anonymity"]),
		)

	def test_a_site_that_took_sms_before_the_upgrade_keeps_them_unguided_until_its_admin_chooses(self):
		from unioncase.patches.v0_5 import keep_sms_intake_unguided

		try:
			frappe.db.sql(
				"delete from `tabSingles` where doctype = %s and field = 'guided_intake'", sms.SETTINGS
			)
			frappe.db.sql("delete from `tabInbound Message` where channel = %s", sms.CHANNEL)
			keep_sms_intake_unguided.execute()
			self.assertTrue(sms.settings().guided, "a site that never took SMS starts guided")

			frappe.get_doc(
				{
					"doctype": inbox.INBOUND,
					"name": frappe.generate_hash(length=10),
					"channel": sms.CHANNEL,
					"state": "Processed",
					"dedup_key": f"sms:{frappe.generate_hash()}",
					"received_on": now_datetime(),
				}
			).db_insert()
			keep_sms_intake_unguided.execute()
			self.assertFalse(sms.settings().guided, "a site that took SMS answers them as before")

			frappe.db.set_single_value(sms.SETTINGS, "guided_intake", 1)
			keep_sms_intake_unguided.execute()
			self.assertTrue(sms.settings().guided, "an admin's choice is kept")
		finally:
			frappe.db.rollback()


def remove_conversations(numbers: list[str], message_ids: list[str]):
	"""What these tests' numbers left: their cases (rows deleted directly: no worker runs beside the tests),
	conversations, handles, messages and inbox rows."""
	hashes = [handle.address_hash(number) for number in numbers] or [""]
	contacts = frappe.get_all(
		handle.HANDLE, filters={"address_hash": ["in", hashes]}, fields=["name", "grievance"]
	)
	cases = [c.grievance for c in contacts if c.grievance] or [""]
	names = [c.name for c in contacts] or [""]
	conversations = frappe.get_all(
		guided.CONVERSATION, filters={"address_hash": ["in", hashes]}, pluck="name"
	)
	inbound = frappe.get_all(inbox.INBOUND, filters={"grievance": ["in", cases]}, pluck="name")
	inbound += frappe.get_all(
		inbox.INBOUND, filters={"dedup_key": ["in", [f"sms:{i}" for i in message_ids] or [""]]}, pluck="name"
	)
	frappe.db.delete("Case Message", {"intake_conversation": ["in", conversations or [""]]})
	frappe.db.delete("Case Message", {"grievance": ["in", cases]})
	frappe.db.delete(inbox.INBOUND, {"name": ["in", inbound or [""]]})
	frappe.db.delete(guided.CONVERSATION, {"name": ["in", conversations or [""]]})
	frappe.db.delete("__Auth", {"doctype": handle.HANDLE, "name": ["in", names]})
	frappe.db.delete(handle.HANDLE, {"name": ["in", names]})
	for doctype, column in (
		("Comment", "reference_name"),
		("Version", "docname"),
		("Consent Event", "reference_name"),
		("ToDo", "reference_name"),
	):
		frappe.db.delete(doctype, {column: ["in", cases]})
	frappe.db.delete("Grievance", {"name": ["in", cases]})
	summary.prune(commit=False)  # the analytics table forgets cases deleted past the hooks
	frappe.db.commit()
