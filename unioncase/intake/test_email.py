"""Email intake against real servers on loopback: Dovecot (IMAP) holds the union's mailbox, Frappe's own
pull job fetches it through the Email Account, acknowledgements and replies leave through Frappe's
email queue to an SMTP sink (aiosmtpd) where they are read back."""

import email.policy
import re
from email.message import EmailMessage
from email.utils import make_msgid

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.intake import conversation, handle, inbox, tracking
from unioncase.tests.hierarchy_data import ensure_hierarchy
from unioncase.tests.intake_data import EXE, PNG
from unioncase.tests.mail_data import MAILBOX_ADDRESS, IntakeMailbox, mail
from unioncase.tests.rest_client import RestSession

BOGOR = "T PUK Bogor Satu"
RIAU = "T PUK Riau Satu"
BOGOR_BRANCH = "t.branch.bogor@test.unioncase.org"
RIAU_BRANCH = "t.branch.riau@test.unioncase.org"
CODE = re.compile(r"\[([0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5})\]")


def worker_address() -> str:
	return f"pekerja.{frappe.generate_hash(length=8)}@pekerja.test"


class TestEmailIntake(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		cls.box = IntakeMailbox(BOGOR)

	@classmethod
	def tearDownClass(cls):
		cls.box.stop()
		super().tearDownClass()

	def tearDown(self):
		frappe.set_user("Administrator")

	def report_by_mail(self, sender: str, **headers) -> tuple[str, frappe._dict]:
		"""A new report mailed in and pulled: (its Message-ID, its inbox record)."""
		message_id = self.box.deliver(
			mail(sender, "Lembur tidak dibayar", "Sudah tiga bulan lembur Sabtu tidak dibayar.", **headers)
		)
		new = self.box.pull()
		self.assertEqual(len(new), 1)
		return message_id, frappe.get_doc(inbox.INBOUND, new[0])

	def acknowledgement_to(self, sender: str) -> EmailMessage:
		self.box.send_queued()
		sent = self.box.sent_to(sender)
		self.assertEqual(len(sent), 1, "one acknowledgement")
		return sent[0]

	def test_a_mail_becomes_a_case_acknowledged_to_the_sender_only_with_its_code(self):
		sender = worker_address()
		message_id, stored = self.report_by_mail(
			f"Sari Pekerja <{sender}>", Cc="teman1@pekerja.test, teman2@pekerja.test"
		)
		self.assertEqual((stored.state, stored.channel, stored.kind), ("Processed", "Email", "New Report"))
		self.assertEqual(stored.dedup_key, f"email:{message_id}")
		self.assertEqual(stored.email_account, self.box.account)
		self.assertNotIn(sender, stored.payload, "the raw mail is stored encrypted")
		raw = inbox.payload_of(stored)["raw"]
		self.assertTrue(raw)
		case = frappe.get_doc("Grievance", stored.grievance)
		self.assertEqual((case.owning_union, case.channel, case.is_anonymous), (BOGOR, "Email", 1))
		self.assertEqual(case.subject, "Lembur tidak dibayar")
		self.assertIn("lembur Sabtu tidak dibayar", case.description)
		for field in ("reporter_email", "reporter_name", "description", "subject"):
			self.assertNotIn(sender, case.get(field) or "")
		self.assertFalse(
			frappe.db.exists("Communication", {"sender": ["like", f"%{sender}%"]}),
			"no Communication keeps the worker's address",
		)
		self.assertEqual(
			frappe.get_all("Case Message", filters={"grievance": case.name}, fields=["direction", "channel"]),
			[{"direction": "From Worker", "channel": "Email"}],
		)

		acknowledgement = self.acknowledgement_to(sender)
		self.assertEqual(acknowledgement["From"], MAILBOX_ADDRESS)
		self.assertEqual(self.box.sent_to("teman1@pekerja.test"), [], "the Cc'd are not acknowledged")
		self.assertEqual(self.box.sent_to("teman2@pekerja.test"), [])
		code = CODE.search(acknowledgement["Subject"]).group(1)
		self.assertIn(code, acknowledgement.get_body(("html",)).get_content())
		self.assertEqual(handle.case_for_code_hash(tracking.code_hash(tracking.normalise(code))), case.name)
		self.assertEqual(handle.resolve(handle.for_case(case.name).name), sender)

	def test_the_same_mail_fetched_or_delivered_twice_is_one_record(self):
		sender = worker_address()
		message = mail(sender, "Upah dipotong", "Upah saya dipotong tanpa alasan bulan Oktober.")
		message_id = self.box.deliver(message)
		self.box.deliver(message)  # the provider delivered it twice
		self.assertEqual(len(self.box.pull()), 1)
		self.assertEqual(self.box.pull(), [], "a second fetch of the unseen mail stores nothing")
		self.assertEqual(frappe.db.count(inbox.INBOUND, {"dedup_key": f"email:{message_id}"}), 1)
		grievance = frappe.db.get_value(inbox.INBOUND, {"dedup_key": f"email:{message_id}"}, "grievance")
		self.assertEqual(frappe.db.count("Grievance", {"subject": "Upah dipotong", "name": grievance}), 1)
		self.box.send_queued()
		self.assertEqual(len(self.box.sent_to(sender)), 1, "acknowledged once")

	def test_a_reply_to_the_acknowledgement_joins_the_case_without_the_quoted_history(self):
		sender = worker_address()
		_message_id, stored = self.report_by_mail(sender)
		acknowledgement = self.acknowledgement_to(sender)
		reply = mail(
			sender,
			f"Re: {acknowledgement['Subject'].replace('[', '(').replace(']', ')')}",
			"Mandor juga mengancam akan memecat kami.\n\n"
			"On Mon, 1 Dec 2026 at 10:00, Serikat wrote:\n> Your union received your report.\n",
			In_Reply_To=acknowledgement["Message-Id"],
			References=acknowledgement["Message-Id"],
		)
		self.box.deliver(reply)
		joined = frappe.get_doc(inbox.INBOUND, self.box.pull()[0])
		self.assertEqual(
			(joined.state, joined.kind, joined.grievance), ("Processed", "Follow-up", stored.grievance)
		)
		messages = frappe.get_all(
			"Case Message", filters={"grievance": stored.grievance}, pluck="content", order_by="creation asc"
		)
		self.assertEqual(len(messages), 2)
		self.assertEqual(messages[1], "Mandor juga mengancam akan memecat kami.")
		self.assertEqual(frappe.db.count("Grievance", {"subject": ["like", "%Your report was received%"]}), 0)
		self.box.send_queued()
		self.assertEqual(len(self.box.sent_to(sender)), 1, "a follow-up is not acknowledged as a new case")

	def test_the_tracking_code_in_the_subject_joins_the_case(self):
		sender = worker_address()
		_message_id, stored = self.report_by_mail(sender)
		code = CODE.search(self.acknowledgement_to(sender)["Subject"]).group(1)
		# a new mail (no In-Reply-To), from another address, naming the code in lower case
		self.box.deliver(
			mail(worker_address(), f"Tambahan untuk kasus {code.lower()}", "Ada saksi lain juga.")
		)
		joined = frappe.get_doc(inbox.INBOUND, self.box.pull()[0])
		self.assertEqual((joined.state, joined.grievance), ("Processed", stored.grievance))
		# a made-up code joins nothing: it is a new case
		self.box.deliver(mail(worker_address(), "Kasus ABCDE-12345-FGHJK", "Saya juga mengalami hal sama."))
		other = frappe.get_doc(inbox.INBOUND, self.box.pull()[0])
		self.assertNotEqual(other.grievance, stored.grievance)
		self.assertEqual(other.kind, "New Report")

	def test_auto_replies_make_no_case_and_no_acknowledgement(self):
		for headers, why in (
			({"Auto_Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
			({"X_Autoreply": "yes"}, "X-Autoreply"),
			({"Precedence": "bulk"}, "Precedence: bulk"),
		):
			sender = worker_address()
			before = frappe.db.count("Grievance")
			self.box.deliver(
				mail(sender, "Saya sedang cuti", "Saya tidak di kantor sampai Senin.", **headers)
			)
			stored = frappe.get_doc(inbox.INBOUND, self.box.pull()[0])
			self.assertEqual(stored.state, "Ignored")
			self.assertIn(why, stored.state_reason)
			self.assertIsNone(stored.grievance)
			self.assertEqual(frappe.db.count("Grievance"), before)
			self.box.send_queued()
			self.assertEqual(self.box.sent_to(sender), [])

	def test_a_bounce_makes_no_case_and_marks_the_address_unreachable(self):
		sender = worker_address()
		_message_id, stored = self.report_by_mail(sender)
		self.acknowledgement_to(sender)
		frappe.set_user("Administrator")
		queued = conversation.reply(stored.grievance, "Kami akan menghubungi perusahaan besok.", "Email")
		conversation.deliver(queued["name"])
		self.box.send_queued()
		reply = self.box.sent_to(sender)[-1]
		bounce = EmailMessage()
		bounce["From"] = "Mail Delivery System <MAILER-DAEMON@mx.pekerja.test>"
		bounce["To"] = MAILBOX_ADDRESS
		bounce["Subject"] = "Undelivered Mail Returned to Sender"
		bounce["Message-ID"] = make_msgid(domain="mx.pekerja.test")
		bounce.set_content("The mail could not be delivered: mailbox full.")
		bounce.add_attachment(
			f"Message-ID: {reply['Message-Id']}\r\nTo: {sender}\r\nSubject: x\r\n".encode(),
			maintype="text",
			subtype="rfc822-headers",
		)
		bounce.replace_header("Content-Type", 'multipart/report; report-type="delivery-status"')
		cases_before = frappe.db.count("Grievance")
		self.box.imap.append(bounce.as_bytes(policy=email.policy.SMTP))
		ignored = frappe.get_doc(inbox.INBOUND, self.box.pull()[0])
		self.assertEqual(ignored.state, "Ignored")
		self.assertIn("unreachable", ignored.state_reason)
		self.assertNotIn(sender, ignored.state_reason)
		self.assertEqual(frappe.db.count("Grievance"), cases_before)
		self.assertEqual(
			frappe.db.get_value("Contact Handle", {"grievance": stored.grievance}, "unreachable"), 1
		)
		self.assertEqual(conversation.reply_channels(stored.grievance), ["Tracking Page"])

	def test_an_unsafe_attachment_is_quarantined_and_never_served(self):
		sender = worker_address()
		message = mail(sender, "Foto slip gaji", "Ini foto slip gaji saya.")
		message.add_attachment(EXE, maintype="image", subtype="jpeg", filename="slip-gaji.jpg")
		self.box.deliver(message)
		stored = frappe.get_doc(inbox.INBOUND, self.box.pull()[0])
		self.assertEqual(stored.state, "Quarantined")
		self.assertIn("attachment 1", stored.state_reason)
		self.assertIsNone(stored.grievance)
		self.assertFalse(frappe.db.exists("File", {"attached_to_name": stored.name}))
		self.assertFalse(frappe.db.exists("File", {"file_name": ["like", "slip-gaji%"]}))

		safe = mail(worker_address(), "Foto pengumuman", "Foto pengumuman pemotongan upah.")
		safe.add_attachment(PNG, maintype="application", subtype="octet-stream", filename="a.exe")
		self.box.deliver(safe)
		kept = frappe.get_doc(inbox.INBOUND, self.box.pull()[0])
		self.assertEqual(kept.state, "Processed")
		files = frappe.get_all(
			"File",
			filters={"attached_to_doctype": "Grievance", "attached_to_name": kept.grievance},
			fields=["file_name", "is_private"],
		)
		self.assertEqual(len(files), 1)
		self.assertTrue(files[0].file_name.endswith(".png"), "named by what it is, not by what it was called")
		self.assertEqual(files[0].is_private, 1)

	def test_malformed_mail_is_decoded_and_kept_never_dropped(self):
		cases = {
			"latin-1 8-bit, no charset": (
				b"From: buruh@pekerja.test\r\nTo: " + MAILBOX_ADDRESS.encode() + b"\r\n"
				b"Subject: Gaji\r\nMessage-ID: <l1-"
				+ frappe.generate_hash(length=6).encode()
				+ b"@p.test>\r\n"
				b"Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
				b"Pekerja dipaksa lembur, caf\xe9 ditutup, upah tidak dibayar.\r\n",
				"caf\xe9 ditutup",
			),
			"RFC 2047 subject, quoted-printable, unknown charset": (
				b"From: buruh@pekerja.test\r\nTo: " + MAILBOX_ADDRESS.encode() + b"\r\n"
				b"Subject: =?utf-8?B?VXBhaCBkaXBvdG9uZyDwn5Ki?=\r\n"
				b"Message-ID: <q1-" + frappe.generate_hash(length=6).encode() + b"@p.test>\r\n"
				b"Content-Type: text/plain; charset=x-unknown-charset\r\n"
				b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
				b"Upah dipotong =3D 20 persen tanpa pemberitahuan.\r\n",
				"Upah dipotong = 20 persen",
			),
			"HTML only, broken multipart": (
				b"From: buruh@pekerja.test\r\nTo: " + MAILBOX_ADDRESS.encode() + b"\r\nSubject: PHK\r\n"
				b"Message-ID: <h1-" + frappe.generate_hash(length=6).encode() + b"@p.test>\r\n"
				b'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n--b1\r\n'
				b"Content-Type: text/html; charset=utf-8\r\n\r\n"
				b"<p>Kami di-PHK <b>tanpa pesangon</b></p><script>alert(1)</script>\r\n",
				"tanpa pesangon",
			),
		}
		for label, (raw, expected) in cases.items():
			self.box.imap.append(raw)
			stored = frappe.get_doc(inbox.INBOUND, self.box.pull()[0])
			self.assertEqual(stored.state, "Processed", f"{label}: {stored.error}")
			content = frappe.db.get_value("Case Message", {"inbound_message": stored.name}, "content")
			self.assertIn(expected, content, label)
			self.assertNotIn("<script", frappe.db.get_value("Grievance", stored.grievance, "description"))
		subject = frappe.db.get_value("Grievance", {"subject": ["like", "Upah dipotong %"]}, "subject")
		self.assertEqual(subject, "Upah dipotong \U0001f4a2", "the RFC 2047 subject is decoded")

	def test_an_official_of_a_sibling_union_sees_no_mail_of_this_union(self):
		_message_id, stored = self.report_by_mail(worker_address())
		bogor, riau = RestSession(BOGOR_BRANCH), RestSession(RIAU_BRANCH)
		self.assertEqual(bogor.get(f"/api/resource/Inbound Message/{stored.name}").status_code, 200)
		self.assertEqual(riau.get(f"/api/resource/Inbound Message/{stored.name}").status_code, 403)
		listed = riau.get(
			"/api/resource/Inbound Message", filters=[["channel", "=", "Email"]], limit_page_length=0
		)
		self.assertEqual(listed.status_code, 200)
		self.assertNotIn(stored.name, [row["name"] for row in listed.json()["data"]])
		self.assertEqual(riau.get(f"/api/resource/Grievance/{stored.grievance}").status_code, 403)

	def test_a_mailbox_not_listed_in_intake_settings_feeds_the_default_union_never_communication(self):
		frappe.db.delete("Intake Mailbox", {"email_account": self.box.account})
		frappe.db.set_single_value("Intake Settings", "default_union", RIAU)
		frappe.db.commit()
		try:
			sender = worker_address()
			_message_id, stored = self.report_by_mail(sender)
			self.assertEqual(stored.state, "Processed", stored.error)
			self.assertEqual(frappe.db.get_value("Grievance", stored.grievance, "owning_union"), RIAU)
			self.assertFalse(frappe.db.exists("Communication", {"sender": ["like", f"%{sender}%"]}))
		finally:
			frappe.db.set_single_value("Intake Settings", "default_union", None)
			settings = frappe.get_single("Intake Settings")
			settings.set("mailboxes", [{"email_account": self.box.account, "union": BOGOR}])
			settings.save(ignore_permissions=True)
			frappe.db.commit()
