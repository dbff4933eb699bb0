"""Real mail servers on loopback for the intake tests: an SMTP sink (aiosmtpd) and an IMAP server
(Debian's Dovecot, scripts/lib.sh installs it) with a throwaway mailbox.

Ports: UNIONCASE_TEST_MAIL_PORT (default 8050) for IMAP, the next one for SMTP, so checkouts that test
side by side keep apart.
"""

import email
import email.policy
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

MAILBOX_USER, MAILBOX_PASSWORD = "intake", "intake-test-password"


def mail_port(offset: int = 0) -> int:
	return int(os.environ.get("UNIONCASE_TEST_MAIL_PORT") or 8050) + offset


def wait_for_port(port: int, seconds: float = 15):
	deadline = time.monotonic() + seconds
	while time.monotonic() < deadline:
		with socket.socket() as probe:
			if probe.connect_ex(("127.0.0.1", port)) == 0:
				return
		time.sleep(0.05)
	raise RuntimeError(f"nothing answers on 127.0.0.1:{port}")


class _Collect:
	def __init__(self, sink):
		self.sink = sink

	async def handle_DATA(self, server, session, envelope):
		self.sink.messages.append(
			(
				envelope.mail_from,
				list(envelope.rcpt_tos),
				email.message_from_bytes(
					envelope.original_content or envelope.content, policy=email.policy.default
				),
			)
		)
		return "250 Message accepted"


class SmtpSink:
	"""An SMTP server that keeps every message it is given: (envelope sender, recipients, message)."""

	def __init__(self, port: int | None = None):
		self.port = port or mail_port(1)
		self.messages: list = []
		self.logins: list[str] = []
		self.controller = Controller(
			_Collect(self),
			hostname="127.0.0.1",
			port=self.port,
			authenticator=self.authenticate,
			auth_require_tls=False,  # loopback only
		)

	def authenticate(self, server, session, envelope, mechanism, auth_data):
		"""The mailbox's own login, as a provider's submission server asks for it."""
		ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
			MAILBOX_USER.encode(),
			MAILBOX_PASSWORD.encode(),
		)
		if ok:
			self.logins.append(auth_data.login.decode())
		return AuthResult(success=ok, handled=False)

	def start(self):
		self.controller.start()
		return self

	def stop(self):
		self.controller.stop()

	def to(self, address: str) -> list:
		return [message for _sender, recipients, message in self.messages if address in recipients]


class Dovecot:
	"""Dovecot serving one throwaway mailbox over plain IMAP on loopback, in a folder of its own."""

	def __init__(self, port: int | None = None):
		self.port = port or mail_port()
		self.root = Path(tempfile.mkdtemp(prefix="uc-dovecot-"))
		self.process = None

	def config(self) -> str:
		if os.geteuid() == 0:
			mail_user, login_user, internal_user = "dovecot", "dovenull", "dovecot"
		else:
			mail_user = login_user = internal_user = pwd.getpwuid(os.geteuid()).pw_name
		mail = pwd.getpwnam(mail_user)
		(self.root / "mail").mkdir()
		for folder in (self.root, self.root / "mail"):
			os.chown(folder, mail.pw_uid, mail.pw_gid) if os.geteuid() == 0 else None
		(self.root / "users").write_text(f"{MAILBOX_USER}:{{PLAIN}}{MAILBOX_PASSWORD}\n")
		return f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = {mail.pw_uid}
mail_location = maildir:{self.root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={self.root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""

	def start(self):
		dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
		conf = self.root / "dovecot.conf"
		conf.write_text(self.config())
		self.process = subprocess.Popen(
			[dovecot, "-F", "-c", str(conf)],
			stdout=subprocess.DEVNULL,
			stderr=open(self.root / "stderr.log", "w"),
			start_new_session=True,
		)
		try:
			wait_for_port(self.port)
		except RuntimeError as error:
			raise RuntimeError(f"{error}: {(self.root / 'stderr.log').read_text()}") from None
		return self

	def stop(self):
		if self.process and self.process.poll() is None:
			os.killpg(self.process.pid, signal.SIGTERM)
			try:
				self.process.wait(timeout=10)
			except subprocess.TimeoutExpired:
				os.killpg(self.process.pid, signal.SIGKILL)
		shutil.rmtree(self.root, ignore_errors=True)

	def client(self) -> imaplib.IMAP4:
		imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
		imap.login(MAILBOX_USER, MAILBOX_PASSWORD)
		return imap

	def append(self, raw: bytes, folder: str = "INBOX"):
		"""Deliver a message into the mailbox over IMAP (APPEND), as a mail server would."""
		imap = self.client()
		try:
			status, answer = imap.append(folder, None, None, raw)
			assert status == "OK", answer
		finally:
			imap.logout()

	def count(self, folder: str = "INBOX") -> int:
		imap = self.client()
		try:
			status, answer = imap.select(folder, readonly=True)
			assert status == "OK", answer
			return int(answer[0])
		finally:
			imap.logout()
