"""A union's intake mailbox for the tests: Dovecot and an SMTP sink on loopback (mail_servers), a Frappe
Email Account reading the first (IMAP, Append To: Grievance) and sending through the second, listed
in Intake Settings with its union. Mail is pulled by Frappe's own job function."""

import email.policy
from email.message import EmailMessage
from email.utils import make_msgid

import frappe
from frappe.email.doctype.email_account.email_account import EmailAccount, pull_from_email_account
from frappe.utils.password import set_encrypted_password

from unioncase.intake import inbox
from unioncase.tests.mail_servers import MAILBOX_PASSWORD, MAILBOX_USER, Dovecot, SmtpSink

MAILBOX = "UnionCase Test Intake Mailbox"
MAILBOX_ADDRESS = "pengaduan.bogor@test.unioncase.org"


def remember_only_this_mailbox():
	"""Frappe v15 remembers per process the outgoing account each lookup found
	(frappe.local.outgoing_email_account, EmailAccount.find_outgoing), and answers a lookup for a sender
	it has not remembered with the remembered default. In a test process, mail sent at once (in_test)
	before the acknowledgement (the new case's assignment notice, through the default account, which is
	smtp.invalid here) makes the acknowledgement go out through that default too. A request and a job
	start with nothing remembered; Frappe's own tests reset it (frappe/email/test_smtp.py). So: forget
	them, then remember this mailbox for its own address, as a job that sent from it first would."""
	frappe.local.outgoing_email_account = {}
	if frappe.db.exists("Email Account", MAILBOX):
		EmailAccount.find_outgoing(match_by_email=MAILBOX_ADDRESS)


class IntakeMailbox:
	"""Start the servers and the Email Account; `stop` removes everything again."""

	def __init__(self, union: str):
		self.union = union
		self.imap = Dovecot().start()
		self.smtp = SmtpSink().start()
		try:
			self.create_account(union)
		except Exception:
			self.imap.stop()  # a failed setup leaves no server behind
			self.smtp.stop()
			raise

	def create_account(self, union: str):
		frappe.flags.testing_email = True  # Frappe's Email Queue really sends (to the sink) in tests
		self.remove_account()
		account = frappe.get_doc(
			{
				"doctype": "Email Account",
				"email_account_name": MAILBOX,
				"email_id": MAILBOX_ADDRESS,
				"login_id_is_different": 1,
				"login_id": MAILBOX_USER,
				"password": MAILBOX_PASSWORD,
				"enable_incoming": 1,
				"use_imap": 1,
				"email_server": "127.0.0.1",
				"incoming_port": str(self.imap.port),
				"use_ssl": 0,
				"use_starttls": 0,
				"email_sync_option": "UNSEEN",
				"initial_sync_count": "100",
				"imap_folder": [{"folder_name": "INBOX", "append_to": "Grievance"}],
				"enable_outgoing": 1,
				# the default while it lives: under `bench run-tests` Frappe v15 sends some mail at once in
				# process (frappe.flags.in_test: a new case's assignment notice, from the default account),
				# and with testing_email on it really connects; through the sink rather than smtp.invalid
				"default_outgoing": 1,
				"smtp_server": "127.0.0.1",
				"smtp_port": str(self.smtp.port),
				"no_smtp_authentication": 0,
				"use_tls": 0,
				"use_ssl_for_outgoing": 0,
			}
		).insert(ignore_permissions=True)
		self.account = account.name
		remember_only_this_mailbox()
		settings = frappe.get_single("Intake Settings")
		settings.set("mailboxes", [{"email_account": self.account, "union": union}])
		settings.save(ignore_permissions=True)
		frappe.db.commit()

	def remove_account(self):
		frappe.db.delete("Intake Mailbox", {"email_account": MAILBOX})
		if frappe.db.exists("Email Account", MAILBOX):
			frappe.delete_doc("Email Account", MAILBOX, ignore_permissions=True, force=True)
		frappe.db.commit()

	def stop(self):
		frappe.flags.testing_email = False
		self.remove_account()
		remember_only_this_mailbox()
		self.imap.stop()
		self.smtp.stop()

	def deliver(self, message: EmailMessage) -> str:
		"""Put a mail in the mailbox over IMAP; its Message-ID."""
		self.imap.append(message.as_bytes(policy=email.policy.SMTP))
		return message["Message-ID"].strip("<>")

	def pull(self) -> list[str]:
		"""Frappe's pull job for the account, then each new inbox message's own job; the messages."""
		before = set(frappe.get_all(inbox.INBOUND, filters={"channel": "Email"}, pluck="name"))
		pull_from_email_account(self.account)
		new = [
			name
			for name in frappe.get_all(
				inbox.INBOUND, filters={"channel": "Email"}, pluck="name", order_by="creation asc"
			)
			if name not in before
		]
		for name in new:
			inbox.process_message(name)
		return new

	def send_queued(self) -> list:
		"""Frappe's Email Queue, sent now for real (to the sink); the queue rows sent."""
		# only this mailbox's mail: other tests leave mail queued for accounts with no real server
		queued = frappe.get_all(
			"Email Queue",
			filters={"status": "Not Sent", "sender": ["like", f"%{MAILBOX_ADDRESS}%"]},
			pluck="name",
		)
		for name in queued:
			frappe.get_doc("Email Queue", name).send()
		frappe.db.commit()
		return queued

	def sent_to(self, address: str) -> list:
		return self.smtp.to(address)


def mail(sender: str, subject: str, body: str, **headers) -> EmailMessage:
	message = EmailMessage()
	message["From"] = sender
	message["To"] = MAILBOX_ADDRESS
	message["Subject"] = subject
	message["Message-ID"] = headers.pop("message_id", None) or make_msgid(domain="pekerja.test")
	for name, value in headers.items():
		message[name.replace("_", "-")] = value
	message.set_content(body)
	return message


def break_address(handle: str) -> str:
	"""Take the address out of a handle's encrypted store (a delivery then fails); what was there."""
	from unioncase.intake import handle as handles

	address = handles.resolve(handle)
	frappe.db.delete("__Auth", {"doctype": "Contact Handle", "name": handle, "fieldname": "address"})
	frappe.db.commit()
	return address


def restore_address(handle: str, address: str):
	set_encrypted_password("Contact Handle", handle, address, "address")
	frappe.db.commit()
