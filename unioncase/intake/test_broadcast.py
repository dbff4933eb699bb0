"""Broadcasts to members by union subtree: over real HTTP to the running site, with the loopback Cloud
API stand-in of test_whatsapp recording exactly which numbers received the template."""

import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import frappe
from frappe.utils import now_datetime
from frappe.utils.background_jobs import create_job_id, get_queue

from unioncase.compat import IntegrationTestCase, worker_command
from unioncase.intake import broadcast, inbox, whatsapp
from unioncase.intake.phone import normalize_phone
from unioncase.intake.test_whatsapp import (
	ACCESS_TOKEN,
	APP_SECRET,
	PHONE_NUMBER_ID,
	Provider,
	body_of,
	post_signed,
)
from unioncase.privacy.consent import BROADCASTS, MEMBER, add_consent_event
from unioncase.tests.harness import users_unthrottled
from unioncase.tests.hierarchy_data import PASSWORD, ensure_hierarchy
from unioncase.tests.rest_client import RestSession
from unioncase.tests.sms_gateway import SmsGateway
from unioncase.tests.sms_gateway import configure as configure_sms
from unioncase.tests.test_bad_input import messages

PREFIX = "T bc "
PUK = "t.puk.bogor1@test.unioncase.org"
BRANCH = "t.branch.bogor@test.unioncase.org"
FEDERATION = "t.federation.garmen@test.unioncase.org"
SIBLING = "t.branch.riau@test.unioncase.org"
CONFEDERATION = "t.confederation@test.unioncase.org"
UNATTACHED = "t.unattached@test.unioncase.org"
RESEARCHER = "t.researcher.sawit@test.unioncase.org"
NO_ROLE = "t.bc.norole@test.unioncase.org"
TEMPLATE, PLAIN_TEMPLATE = "pengumuman_rapat", "info_umum"
RESOURCE = "/api/resource/Member Broadcast"
METHOD = "/api/method/unioncase.intake.broadcast."
RATE = 10.0

# (key, workplace union, broadcast consent events oldest first, status, has a phone)
MEMBERS = (
	("b1a", "T PUK Bogor Satu", "G", "Active", True),
	("b1b", "T PUK Bogor Satu", "G", "Active", True),
	("b1c", "T PUK Bogor Satu", "WG", "Active", True),  # withdrew, then agreed again: the latest wins
	("b1d", "T PUK Bogor Satu", "GW", "Active", True),  # agreed, then withdrew
	("b1e", "T PUK Bogor Satu", "", "Active", True),  # never asked
	("b1f", "T PUK Bogor Satu", "G", "Resigned", True),
	("b1g", "T PUK Bogor Satu", "G", "Active", False),  # no number to send to
	("b2a", "T PUK Bogor Dua", "G", "Active", True),
	("b2b", "T PUK Bogor Dua", "G", "Active", True),
	("k1a", "T PUK Karawang Satu", "GW", "Active", True),
	("r1a", "T PUK Riau Satu", "G", "Active", True),
	("r1b", "T PUK Riau Satu", "G", "Active", True),
)
CONSENTING = {"b1a", "b1b", "b1c", "b2a", "b2b", "r1a", "r1b"}
BOGOR = {"b1a", "b1b", "b1c", "b2a", "b2b"}


class TimedRequests(list):
	"""The stand-in's request log, with when each request arrived."""

	def append(self, item):
		item["at"] = time.monotonic()
		super().append(item)


def cleanup():
	members = frappe.get_all(MEMBER, filters={"full_name": ["like", f"{PREFIX}%"]}, pluck="name")
	broadcasts = frappe.get_all(broadcast.BROADCAST, filters={"union": ["like", "T %"]}, pluck="name")
	broadcasts = [
		name
		for name in broadcasts
		if (frappe.db.get_value(broadcast.BROADCAST, name, "parameters") or "").startswith(PREFIX)
		or (frappe.db.get_value(broadcast.BROADCAST, name, "message") or "").startswith(PREFIX)
	]
	if broadcasts:
		frappe.db.delete(broadcast.RECIPIENT, {"broadcast": ["in", broadcasts]})
		frappe.db.delete(broadcast.BROADCAST, {"name": ["in", broadcasts]})
	if members:
		frappe.db.delete(broadcast.RECIPIENT, {"member": ["in", members]})
		frappe.db.delete("Consent Event", {"reference_name": ["in", members]})
		frappe.db.delete(MEMBER, {"name": ["in", members]})
	frappe.db.commit()


def start_provider() -> Provider:
	"""The Cloud API stand-in on a free port, WhatsApp and Broadcast Settings pointed at it."""
	provider = Provider()
	provider.requests = TimedRequests()
	frappe.get_single(whatsapp.SETTINGS).update(
		{
			"enabled": 1,
			"phone_number_id": PHONE_NUMBER_ID,
			"graph_url": provider.url,
			"access_token": ACCESS_TOKEN,
			"app_secret": APP_SECRET,
		}
	).save(ignore_permissions=True)
	settings = frappe.get_single(broadcast.SETTINGS)
	settings.update({"whatsapp_rate": RATE, "sms_rate": RATE, "max_attempts": 3, "templates": []})
	settings.append("templates", {"template_name": TEMPLATE, "language": "id", "parameter_count": 2})
	settings.append("templates", {"template_name": PLAIN_TEMPLATE, "language": "id", "parameter_count": 0})
	settings.save(ignore_permissions=True)
	frappe.db.commit()
	return provider


def make_members() -> tuple[dict, dict]:
	"""MEMBERS with their broadcast consent history, committed: ({key: member}, {key: number})."""
	members, numbers = {}, {}
	start = now_datetime() - timedelta(hours=1)
	for key, union, events, status, has_phone in MEMBERS:
		number = "+6281377" + "".join(secrets.choice("0123456789") for _ in range(6))
		member = frappe.get_doc(
			{
				"doctype": MEMBER,
				"full_name": f"{PREFIX}{key}",
				"workplace_union": union,
				"status": status,
				"phone": number if has_phone else None,
			}
		).insert()
		for position, event in enumerate(events):
			add_consent_event(
				MEMBER,
				member.name,
				"Given" if event == "G" else "Withdrawn",
				event_on=start + timedelta(minutes=position),
				purpose=BROADCASTS,
			)
		members[key], numbers[key] = member.name, number
	frappe.db.commit()
	return members, numbers


class TestBroadcast(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		cleanup()
		if not frappe.db.exists("User", NO_ROLE):
			with users_unthrottled():
				frappe.get_doc(
					{
						"doctype": "User",
						"email": NO_ROLE,
						"first_name": "norole",
						"send_welcome_email": 0,
						"new_password": PASSWORD,
					}
				).insert()
		cls.provider = start_provider()
		cls.members, cls.numbers = make_members()
		frappe.db.commit()
		cls.sessions = {}

	@classmethod
	def tearDownClass(cls):
		cls.provider.stop()
		cleanup()
		super().tearDownClass()

	def setUp(self):
		self.provider.requests.clear()
		self.provider.answers.clear()
		frappe.db.set_single_value(broadcast.SETTINGS, {"whatsapp_rate": RATE, "max_attempts": 3})
		frappe.db.commit()

	def tearDown(self):
		frappe.set_user("Administrator")

	def session(self, user: str) -> RestSession:
		if user not in self.sessions:
			self.sessions[user] = RestSession(user)
		return self.sessions[user]

	def create(self, user: str, **values):
		values = {
			"channel": "WhatsApp",
			"template": TEMPLATE,
			"parameters": f"{PREFIX}Sabtu\nAula PUK",
			**values,
		}
		answer = self.session(user).post(RESOURCE, data=values)
		frappe.db.commit()
		return answer

	def queued(self, user: str, union: str, **values) -> str:
		created = self.create(user, union=union, **values)
		self.assertEqual(created.status_code, 200, created.text[:500])
		name = created.json()["data"]["name"]
		sent = self.session(user).post(f"{METHOD}send", name=name)
		self.assertEqual(sent.status_code, 200, sent.text[:500])
		frappe.db.commit()
		return name

	def received(self) -> Counter:
		return Counter("+" + request["json"]["to"] for request in self.provider.sent())

	def expected_numbers(self, keys) -> Counter:
		return Counter(self.numbers[key] for key in keys)

	def rows(self, name: str) -> dict:
		return {
			row.member: row
			for row in frappe.get_all(
				broadcast.RECIPIENT,
				filters={"broadcast": name},
				fields=["member", "status", "provider_message_id", "error", "attempts"],
			)
		}

	def key_of(self, member: str) -> str:
		return next(key for key, name in self.members.items() if name == member)

	def test_nobody_outside_the_officials_scope_can_be_addressed(self):
		"""The matrix: each position in the tree previews exactly its consenting members; a union outside
		its part of the tree is a 403 saying why, for the preview and for creating the broadcast."""
		matrix = (
			(PUK, "T PUK Bogor Satu", 3),
			(PUK, "T Cabang Bogor", None),
			(BRANCH, "T Cabang Bogor", 5),
			(BRANCH, "T PUK Bogor Dua", 2),
			(BRANCH, "T Federasi Garmen", None),
			(BRANCH, "T Cabang Riau", None),
			(FEDERATION, "T Federasi Garmen", 5),
			(FEDERATION, "T Cabang Karawang", 0),
			(FEDERATION, "T Federasi Sawit", None),
			(SIBLING, "T Cabang Riau", 2),
			(SIBLING, "T Cabang Bogor", None),
			(SIBLING, "T PUK Bogor Satu", None),
			(CONFEDERATION, "T Konfederasi", 7),
			(UNATTACHED, "T PUK Bogor Satu", None),
			(RESEARCHER, "T Cabang Riau", None),
			(NO_ROLE, "T PUK Bogor Satu", None),
		)
		for user, union, count in matrix:
			with self.subTest(user=user, union=union):
				answer = self.session(user).get(f"{METHOD}preview", union=union)
				if count is None:
					self.assertEqual(answer.status_code, 403, answer.text[:300])
					created = self.create(user, union=union)
					self.assertEqual(created.status_code, 403, created.text[:300])
					self.assertFalse(frappe.db.exists(broadcast.BROADCAST, {"union": union, "owner": user}))
					if user in (PUK, BRANCH, FEDERATION, SIBLING):
						self.assertIn("outside your part of the union tree", messages(answer))
						self.assertIn("outside your part of the union tree", messages(created))
				else:
					self.assertEqual(answer.status_code, 200, answer.text[:300])
					self.assertEqual(answer.json()["message"]["recipients"], count)
		# the sibling branch sees no broadcast of Bogor, on the list or the document
		name = self.create(BRANCH, union="T Cabang Bogor").json()["data"]["name"]
		listed = self.session(SIBLING).get(RESOURCE, filters=[["union", "like", "T %"]], limit_page_length=0)
		self.assertNotIn(name, [row["name"] for row in listed.json()["data"]])
		self.assertEqual(self.session(SIBLING).get(f"{RESOURCE}/{name}").status_code, 403)
		self.assertEqual(self.session(SIBLING).post(f"{METHOD}send", name=name).status_code, 403)
		self.assertEqual(self.session(FEDERATION).get(f"{RESOURCE}/{name}").status_code, 200)

	def test_a_branch_broadcast_reaches_exactly_its_consenting_members_at_the_providers_rate(self):
		name = self.queued(BRANCH, "T Cabang Bogor")
		doc = frappe.get_doc(broadcast.BROADCAST, name)
		self.assertEqual((doc.status, doc.requested_by), ("Queued", BRANCH))
		self.assertEqual(broadcast.run(name), "Completed")
		self.assertEqual({self.key_of(m) for m in self.rows(name)}, BOGOR)
		self.assertEqual(self.received(), self.expected_numbers(BOGOR), "exactly these numbers, once each")
		sent = self.provider.sent()
		self.assertEqual(len(sent), 5)
		for request in sent:
			self.assertEqual(request["path"], f"/v20.0/{PHONE_NUMBER_ID}/messages")
			self.assertEqual(request["authorization"], f"Bearer {ACCESS_TOKEN}")
			template = request["json"]["template"]
			self.assertEqual((request["json"]["type"], template["name"]), ("template", TEMPLATE))
			self.assertEqual(
				[p["text"] for p in template["components"][0]["parameters"]], [f"{PREFIX}Sabtu", "Aula PUK"]
			)
		# throttled: five messages at 10 a second take at least 0.4 s
		span = sent[-1]["at"] - sent[0]["at"]
		self.assertGreaterEqual(span, 4 / RATE * 0.95)
		frappe.db.rollback()
		doc = frappe.get_doc(broadcast.BROADCAST, name)
		self.assertEqual(
			(doc.status, doc.sent_count, doc.failed_count, doc.progress), ("Completed", 5, 0, 100)
		)
		rows = self.rows(name)
		self.assertEqual({row.status for row in rows.values()}, {"Sent"})
		self.assertEqual(len({row.provider_message_id for row in rows.values()}), 5)

		# the provider's status callbacks update the delivery report
		wamids = sorted(row.provider_message_id for row in rows.values())

		def status(wamid, kind, **extra):
			return {"id": wamid, "status": kind, "timestamp": "1764750100", "recipient_id": "x", **extra}

		failure = {"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable"}
		body = body_of(
			statuses=[
				status(wamids[0], "delivered"),
				status(wamids[0], "read"),
				status(wamids[1], "delivered"),
				status(wamids[2], "failed", errors=[failure]),
			]
		)
		self.assertEqual(post_signed(body).status_code, 200)
		for wamid, kind in (
			(wamids[0], "delivered"),
			(wamids[0], "read"),
			(wamids[1], "delivered"),
			(wamids[2], "failed"),
		):
			stored = frappe.db.get_value(inbox.INBOUND, {"dedup_key": f"whatsapp:status:{wamid}:{kind}"})
			self.assertEqual(inbox.process_message(stored), "Processed")
		late = body_of(statuses=[status(wamids[0], "sent")])
		post_signed(late)
		inbox.process_message(
			frappe.db.get_value(inbox.INBOUND, {"dedup_key": f"whatsapp:status:{wamids[0]}:sent"})
		)
		by_id = {row.provider_message_id: row for row in self.rows(name).values()}
		self.assertEqual(
			[by_id[wamid].status for wamid in wamids[:3]],
			["Read", "Delivered", "Failed"],
			"a late sent changes nothing",
		)
		self.assertIn("131026", by_id[wamids[2]].error)
		doc = frappe.get_doc(broadcast.BROADCAST, name)
		self.assertEqual(
			(doc.sent_count, doc.delivered_count, doc.read_count, doc.failed_count), (4, 2, 1, 1)
		)

		# the official's delivery report names members, never their numbers
		report = self.session(BRANCH).get(
			"/api/resource/Member Broadcast Recipient",
			filters=[["broadcast", "=", name]],
			fields=["member", "status", "error"],
			limit_page_length=0,
		)
		self.assertEqual(report.status_code, 200, report.text[:300])
		self.assertEqual({row["member"] for row in report.json()["data"]}, {self.members[k] for k in BOGOR})
		for key in BOGOR:
			self.assertNotIn(self.numbers[key][3:], report.text)
		other = self.session(SIBLING).get(
			"/api/resource/Member Broadcast Recipient",
			filters=[["broadcast", "=", name]],
			limit_page_length=0,
		)
		self.assertEqual((other.status_code, other.json()["data"]), (200, []))
		again = self.session(BRANCH).post(f"{METHOD}send", name=name)
		self.assertEqual(again.status_code, 417)
		self.assertIn("was sent already", messages(again))

	def test_bad_input_is_a_clear_message_never_a_500(self):
		cases = (
			(
				{"union": "T Cabang Bogor", "channel": "SMS", "message": "  "},
				417,
				"Write the message to send by SMS",
			),
			({"union": "T Cabang Bogor", "template": "tidak_ada"}, 417, "tidak_ada"),
			({"union": "T Cabang Bogor", "template": ""}, 417, "Choose the WhatsApp template"),
			({"union": "T Cabang Bogor", "parameters": f"{PREFIX}satu"}, 417, "takes 2 parameters"),
			({"union": "T Cabang Riau"}, 403, "outside your part of the union tree"),
			({"union": "T no such union"}, 417, "T no such union"),
			({"union": "T Cabang Bogor", "channel": "Fax"}, 417, "Choose the channel"),
		)
		for values, status, text in cases:
			with self.subTest(values=values):
				answer = self.create(BRANCH, **values)
				self.assertEqual(answer.status_code, status, answer.text[:500])
				self.assertIn(text, messages(answer))
		# nobody to send to: a federation's branch where no member agreed
		name = self.create(FEDERATION, union="T Cabang Karawang").json()["data"]["name"]
		answer = self.session(FEDERATION).post(f"{METHOD}send", name=name)
		self.assertEqual(answer.status_code, 417, answer.text[:500])
		self.assertIn("there is nobody to send this to", messages(answer))
		frappe.db.commit()
		self.assertEqual(frappe.db.get_value(broadcast.BROADCAST, name, "status"), "Draft")
		self.assertEqual(frappe.db.count(broadcast.RECIPIENT, {"broadcast": name}), 0)
		# WhatsApp switched off: said before anything is queued
		frappe.db.set_single_value(whatsapp.SETTINGS, "enabled", 0)
		frappe.db.commit()
		try:
			name = self.create(BRANCH, union="T PUK Bogor Dua").json()["data"]["name"]
			answer = self.session(BRANCH).post(f"{METHOD}send", name=name)
			self.assertEqual(answer.status_code, 417, answer.text[:300])
			self.assertIn("WhatsApp is not set up for sending", messages(answer))
		finally:
			frappe.db.set_single_value(whatsapp.SETTINGS, "enabled", 1)
			frappe.db.commit()
		missing = self.session(BRANCH).post(f"{METHOD}send", name="BC-no-such")
		self.assertEqual(missing.status_code, 404, missing.text[:300])
		# a sent broadcast cannot be edited, and a save cannot set what only the job sets
		name = self.queued(BRANCH, "T PUK Bogor Dua", template=PLAIN_TEMPLATE, parameters="")
		edited = self.session(BRANCH).put(f"{RESOURCE}/{name}", template=TEMPLATE)
		self.assertEqual(edited.status_code, 417, edited.text[:300])
		forged = self.create(BRANCH, union="T Cabang Bogor", status="Completed", sent_count=99)
		self.assertEqual(forged.status_code, 200, forged.text[:300])
		self.assertEqual(forged.json()["data"]["status"], "Draft")
		self.assertFalse(forged.json()["data"].get("sent_count"))
		self.assertEqual(broadcast.run(name), "Completed")
		self.assertEqual(self.received(), self.expected_numbers({"b2a", "b2b"}))
		self.assertNotIn("components", self.provider.sent()[0]["json"]["template"], "no parameters")

	def test_429_is_retried_with_backoff_and_a_4xx_fails_only_its_recipient(self):
		name = self.queued(BRANCH, "T Cabang Bogor")
		ok = {"messaging_product": "whatsapp", "messages": [{"id": "wamid.OK" + secrets.token_hex(6)}]}
		self.provider.answers = [
			(429, {"error": {"message": "Rate limit hit", "code": 130429}}),
			(200, ok),
			(
				400,
				{"error": {"message": "Recipient +62 813 7700 0000 is not a WhatsApp user", "code": 131026}},
			),
		]
		self.assertEqual(broadcast.run(name), "Completed")
		sent = self.provider.sent()
		self.assertEqual(len(sent), 6, "five recipients, one retried")
		self.assertEqual(
			sent[0]["json"]["to"], sent[1]["json"]["to"], "the 429 is retried for the same member"
		)
		self.assertGreaterEqual(
			sent[1]["at"] - sent[0]["at"], broadcast.BACKOFF_SECONDS[0] * 0.95, "after a wait"
		)
		retried, refused_number = "+" + sent[0]["json"]["to"], "+" + sent[2]["json"]["to"]
		self.assertEqual(self.received(), self.expected_numbers(BOGOR) + Counter([retried]))
		rows = {self.numbers[self.key_of(member)]: row for member, row in self.rows(name).items()}
		self.assertEqual(rows[retried].attempts, 2)
		self.assertEqual(rows[refused_number].status, "Failed")
		self.assertIn("not a WhatsApp user", rows[refused_number].error)
		self.assertIn("131026", rows[refused_number].error)
		self.assertNotIn("7700", rows[refused_number].error, "no number in the report")
		self.assertEqual(Counter(row.status for row in rows.values()), Counter({"Sent": 4, "Failed": 1}))
		doc = frappe.get_doc(broadcast.BROADCAST, name)
		self.assertEqual((doc.status, doc.sent_count, doc.failed_count), ("Completed", 4, 1))

	def test_a_provider_that_keeps_deferring_pauses_the_broadcast_and_it_resumes_where_it_stopped(self):
		frappe.db.set_single_value(broadcast.SETTINGS, "max_attempts", 2)
		frappe.db.commit()
		name = self.queued(BRANCH, "T PUK Bogor Dua")
		self.provider.answers = [(503, {"error": {"message": "Service unavailable", "code": 2}})] * 2
		self.assertEqual(broadcast.run(name), "Paused")
		doc = frappe.get_doc(broadcast.BROADCAST, name)
		self.assertEqual(doc.status, "Paused")
		self.assertIn("resumes in", doc.error)
		self.assertGreater(doc.next_attempt_on, now_datetime())
		self.assertEqual(Counter(row.status for row in self.rows(name).values()), Counter({"Queued": 2}))
		self.assertEqual(len(self.provider.sent()), 2)
		# while paused, b2b withdraws consent over HTTP (recorded by an official of their branch)
		self.assertEqual(
			self.session(SIBLING)
			.post(
				"/api/method/unioncase.privacy.consent.record_broadcast_consent",
				member=self.members["b2b"],
				given=0,
			)
			.status_code,
			403,
		)
		answer = self.session(BRANCH).post(
			"/api/method/unioncase.privacy.consent.record_broadcast_consent",
			member=self.members["b2b"],
			given=0,
		)
		self.assertEqual(answer.status_code, 200, answer.text[:300])
		self.assertFalse(answer.json()["message"]["consents_to_broadcasts"])
		frappe.db.commit()
		frappe.db.set_value(
			broadcast.BROADCAST, name, "next_attempt_on", now_datetime() - timedelta(minutes=1)
		)
		frappe.db.commit()
		self.assertIn(name, broadcast.resume_due_broadcasts())
		self.provider.requests.clear()
		self.assertEqual(broadcast.run(name), "Completed")
		self.assertEqual(self.received(), self.expected_numbers({"b2a"}))
		rows = {self.key_of(member): row for member, row in self.rows(name).items()}
		self.assertEqual((rows["b2a"].status, rows["b2b"].status), ("Sent", "Failed"))
		self.assertIn("withdrew consent", rows["b2b"].error)
		# and agrees again: the latest event wins
		self.session(BRANCH).post(
			"/api/method/unioncase.privacy.consent.record_broadcast_consent",
			member=self.members["b2b"],
			given=1,
		)
		frappe.db.commit()
		self.assertEqual(
			self.session(BRANCH)
			.get(f"{METHOD}preview", union="T PUK Bogor Dua")
			.json()["message"]["recipients"],
			2,
		)
		events = frappe.get_all(
			"Consent Event",
			filters={"reference_name": self.members["b2b"]},
			fields=["event", "purpose", "recorded_by"],
			order_by="event_on asc, creation asc",
		)
		self.assertEqual(
			[(e.event, e.purpose) for e in events],
			[("Given", BROADCASTS), ("Withdrawn", BROADCASTS), ("Given", BROADCASTS)],
		)
		self.assertEqual(events[-1].recorded_by, BRANCH)

	def test_a_job_that_dies_midway_does_not_resend_when_it_resumes(self):
		"""The real RQ worker sends at 2 a second; it is killed after its third message, and the job
		resumed: every member gets the announcement once at most, and every Sent row exactly once."""
		frappe.db.set_single_value(broadcast.SETTINGS, "whatsapp_rate", 2)
		frappe.db.commit()
		name = self.queued(BRANCH, "T Cabang Bogor")
		# the worker takes this job first, whatever else waits there (a migrate's search index, a refresh)
		queue, job = get_queue("long"), create_job_id(broadcast.job_id(name))
		self.assertEqual(queue.connection.lrem(queue.key, 0, job), 1, "the broadcast's job is queued")
		queue.push_job_id(job, at_front=True)
		command, folder = worker_command("long")  # the runtime's worker, or the bench's on a bench
		worker = subprocess.Popen(
			command,
			cwd=folder,
			stdout=subprocess.DEVNULL,
			stderr=subprocess.DEVNULL,
			start_new_session=True,
		)
		try:
			deadline = time.monotonic() + 120
			while len(self.provider.sent()) < 3 and time.monotonic() < deadline and worker.poll() is None:
				time.sleep(0.05)
			self.assertGreaterEqual(len(self.provider.sent()), 3, "the worker sent")
			# the job runs in RQ's work horse, a session of its own: the process holding the broadcast's lock
			holder = frappe.cache.get(broadcast.lock_key(name))
			os.kill(
				int((holder.decode() if isinstance(holder, bytes) else holder).rpartition(":")[2]),
				signal.SIGKILL,
			)
		finally:
			os.killpg(worker.pid, signal.SIGKILL)
			worker.wait(timeout=30)
		time.sleep(0.5)  # what the killed horse had in flight is gone
		killed_at = len(self.provider.sent())
		frappe.db.rollback()
		before = {member: row.status for member, row in self.rows(name).items()}
		self.assertLess(Counter(before.values())["Sent"], 5, "killed midway")
		self.assertEqual(frappe.db.get_value(broadcast.BROADCAST, name, "status"), "Sending")
		frappe.db.set_single_value(broadcast.SETTINGS, "whatsapp_rate", 50)
		frappe.db.commit()
		self.assertEqual(broadcast.run(name), "Completed")
		self.assertGreater(len(self.provider.sent()), killed_at, "the resumed job sent the rest")
		received = self.received()
		self.assertEqual(max(received.values()), 1, "nobody received it twice")
		rows = self.rows(name)
		self.assertEqual(
			Counter(row.status for row in rows.values()) - Counter({"Sent": 5}),
			Counter({"Failed": len([row for row in rows.values() if row.status == "Failed"])}),
		)
		for member, row in rows.items():
			number = self.numbers[self.key_of(member)]
			if row.status == "Sent":
				self.assertEqual(received[number], 1)
			else:
				# claimed by the killed job (at most a second's worth: 2 at 2 a second), never sent twice
				self.assertEqual((row.status, before[member]), ("Failed", "Sending"))
				self.assertIn("not sent again", row.error)
			if before[member] == "Queued":
				self.assertEqual(row.status, "Sent", "what the killed job had not claimed is sent on resume")
		self.assertLessEqual(Counter(row.status for row in rows.values())["Failed"], 2)

	def test_at_a_high_rate_requests_go_out_in_parallel_and_each_member_still_gets_one(self):
		frappe.db.set_single_value(broadcast.SETTINGS, "whatsapp_rate", 200)
		frappe.db.commit()
		name = self.queued(CONFEDERATION, "T Konfederasi")
		self.provider.answers = [(400, {"error": {"message": "Invalid parameter", "code": 100}})]
		self.assertEqual(broadcast.run(name), "Completed")
		self.assertEqual(self.received(), self.expected_numbers(CONSENTING))
		self.assertEqual(
			Counter(row.status for row in self.rows(name).values()), Counter({"Sent": 6, "Failed": 1})
		)
		doc = frappe.get_doc(broadcast.BROADCAST, name)
		self.assertEqual((doc.recipients_total, doc.sent_count, doc.failed_count), (7, 6, 1))

	def test_recipients_are_decided_when_the_job_starts_and_nobody_left_fails_it_clearly(self):
		name = self.queued(SIBLING, "T Cabang Riau", template=PLAIN_TEMPLATE, parameters="")
		later = now_datetime()
		for key in ("r1a", "r1b"):
			add_consent_event(MEMBER, self.members[key], "Withdrawn", event_on=later, purpose=BROADCASTS)
		frappe.db.commit()
		try:
			self.assertEqual(broadcast.run(name), "Failed")
			doc = frappe.get_doc(broadcast.BROADCAST, name)
			self.assertIn("there is nobody to send this to", doc.error)
			self.assertEqual(
				(len(self.provider.sent()), frappe.db.count(broadcast.RECIPIENT, {"broadcast": name})), (0, 0)
			)
		finally:
			for key in ("r1a", "r1b"):
				add_consent_event(
					MEMBER,
					self.members[key],
					"Given",
					event_on=later + timedelta(seconds=1),
					purpose=BROADCASTS,
				)
			frappe.db.commit()

	def test_sms_is_refused_clearly_while_no_gateway_is_set(self):
		gateway = frappe.get_single("SMS Settings")
		saved = gateway.sms_gateway_url
		frappe.db.set_single_value("SMS Settings", "sms_gateway_url", "")
		frappe.db.commit()
		try:
			created = self.create(BRANCH, union="T Cabang Bogor", channel="SMS", message=f"{PREFIX}Rapat.")
			self.assertEqual(created.status_code, 200, created.text[:300])
			answer = self.session(BRANCH).post(f"{METHOD}send", name=created.json()["data"]["name"])
			self.assertEqual(answer.status_code, 417, answer.text[:300])
			self.assertIn("SMS is not set up for sending", messages(answer))
		finally:
			frappe.db.set_single_value("SMS Settings", "sms_gateway_url", saved)
			frappe.db.commit()

	def test_sms_broadcast_through_the_sms_channel(self):
		gateway = SmsGateway()
		try:
			configure_sms(gateway, "T Cabang Bogor")
			frappe.db.commit()
			name = self.queued(
				BRANCH, "T Cabang Bogor", channel="SMS", message=f"{PREFIX}Rapat anggota Sabtu."
			)
			self.assertEqual(broadcast.run(name), "Completed")
			numbers = Counter(normalize_phone(request["params"]["to"], "to") for request in gateway.requests)
			self.assertEqual(numbers, self.expected_numbers(BOGOR))
			self.assertEqual(Counter(row.status for row in self.rows(name).values()), Counter({"Sent": 5}))
		finally:
			gateway.stop()
