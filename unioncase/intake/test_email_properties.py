"""Property-based tests (hypothesis) of the mail intake: thousands of generated mails, well formed or
not, through the entry point the Email Account calls (`email.receive`) and the inbox's job. Never an
unhandled error; every mail stored exactly once however often it arrives; every one either made or
joined a case, or was ignored or quarantined with a reason."""

import frappe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unioncase.compat import IntegrationTestCase
from unioncase.intake import email, inbox
from unioncase.tests.hierarchy_data import ensure_hierarchy
from unioncase.tests.intake_data import EXE, PDF, PNG
from unioncase.tests.privacy_data import ensure_outgoing_email_account

BOGOR = "T PUK Bogor Satu"
HEADER_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60).map(
	lambda text: text.replace("\r", " ").replace("\n", " ")
)
CHARSETS = st.sampled_from(["utf-8", "iso-8859-1", "windows-1252", "x-unknown", "", "utf-16"])
ENCODINGS = st.sampled_from(["7bit", "8bit", "quoted-printable", "base64", "x-broken", ""])
TYPES = st.sampled_from(
	["text/plain", "text/html", "multipart/mixed", "multipart/report", "application/x-foo"]
)
ATTACHMENTS = st.lists(st.sampled_from([PNG, PDF, EXE, b"", b"PK\x03\x04zipped"]), max_size=2)


@st.composite
def mails(draw) -> bytes:
	if draw(st.integers(0, 9)) == 0:
		return draw(st.binary(max_size=400))  # not a mail at all
	headers = [
		(b"From", draw(st.one_of(HEADER_TEXT, st.just("Sari <sari@pekerja.test>"), st.emails()))),
		(b"Subject", draw(st.one_of(HEADER_TEXT, st.just("=?utf-8?B?VXBhaA==?="), st.just("=?bad?Q?x?=")))),
		(b"Message-ID", draw(st.one_of(st.just(""), HEADER_TEXT.map(lambda text: f"<{text}@x>")))),
	]
	for name in (b"Auto-Submitted", b"Precedence", b"In-Reply-To", b"References", b"Return-Path"):
		if draw(st.booleans()):
			headers.append((name, draw(HEADER_TEXT)))
	kind, charset, encoding = draw(TYPES), draw(CHARSETS), draw(ENCODINGS)
	body = draw(st.one_of(st.binary(max_size=300), HEADER_TEXT.map(lambda text: text.encode())))
	lines = [name + b": " + value.encode("utf-8", "replace") for name, value in headers]
	if kind.startswith("multipart"):
		lines.append(f'Content-Type: {kind}; boundary="b0"'.encode())
		parts = [b"--b0\r\nContent-Type: text/plain; charset=" + charset.encode() + b"\r\n\r\n" + body]
		for attachment in draw(ATTACHMENTS):
			parts.append(
				b"--b0\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=a.jpg\r\n"
				b"Content-Transfer-Encoding: base64\r\n\r\n" + __import__("base64").b64encode(attachment)
			)
		payload = b"\r\n".join(parts) + (b"\r\n--b0--\r\n" if draw(st.booleans()) else b"")
	else:
		lines.append(f"Content-Type: {kind}; charset={charset}".encode())
		payload = body
	lines.append(f"Content-Transfer-Encoding: {encoding}".encode())
	return b"\r\n".join(lines) + b"\r\n\r\n" + payload


class TestMailProperties(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		ensure_outgoing_email_account()
		frappe.db.set_single_value("Intake Settings", "default_union", BOGOR)
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		frappe.db.set_single_value("Intake Settings", "default_union", None)
		frappe.db.commit()
		super().tearDownClass()

	@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
	@given(raw=mails(), deliveries=st.integers(1, 3))
	def test_any_mail_is_stored_once_and_made_a_case_or_explained(self, raw, deliveries):
		results = [email.receive("T property mailbox", raw) for _ in range(deliveries)]
		self.assertEqual(len({name for name, _created in results}), 1, "one record however often it arrives")
		self.assertFalse(any(created for _name, created in results[1:]), "a second delivery stores nothing")
		name = results[0][0]
		key = frappe.db.get_value(inbox.INBOUND, name, "dedup_key")
		self.assertEqual(frappe.db.count(inbox.INBOUND, {"dedup_key": key}), 1)
		state = inbox.process_message(name)
		doc = frappe.get_doc(inbox.INBOUND, name)
		self.assertNotEqual(state, "Failed", f"{doc.error!r} for {raw[:300]!r}")
		if state == "Processed":
			self.assertTrue(doc.grievance)
			self.assertTrue(frappe.db.exists("Case Message", {"inbound_message": name}))
		else:
			self.assertIn(state, ("Ignored", "Quarantined"))
			self.assertTrue(doc.state_reason, "an ignored or quarantined mail says why")
			self.assertIsNone(doc.grievance)
		self.assertEqual(inbox.process_message(name), state, "processing twice changes nothing")
