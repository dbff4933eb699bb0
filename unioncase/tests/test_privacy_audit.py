"""The whole-database audit: after erasure, retention, withdrawal or an anonymous report, no copy is left.

Each test makes a worker with distinctive strings, puts them where Frappe copies text (comments,
communications, files, assignments and their notifications, alerts, emails, a failed email's
error, a failed job's metadata, user defaults, the search index and its Redis queue), acts, runs
the search-index sync as the scheduler would, then searches every text column of every table, the
site's files and logs and both Redis databases (privacy_audit.py). Only the copies the README names
as kept may remain.
"""

import json

import frappe
from frappe.desk.form import assign_to
from frappe.utils import add_days, today
from frappe.utils.global_search import sync_global_search

from unioncase.compat import IntegrationTestCase
from unioncase.privacy.consent import withdraw_consent
from unioncase.privacy.erasure import erase_member
from unioncase.privacy.identity import IDENTITY_ROLE
from unioncase.privacy.retention import redact_due_cases
from unioncase.tests.harness import jobs_run_now, users_unthrottled
from unioncase.tests.hierarchy_data import ensure_hierarchy, make_official
from unioncase.tests.privacy_audit import Identity, everywhere
from unioncase.tests.privacy_data import (
	WORKPLACE,
	ensure_outgoing_email_account,
	make_case,
	make_member,
	new_case,
)
from unioncase.tests.rest_client import RestSession

OFFICIAL = "t.audit.official@test.unioncase.org"
CUSTODIAN = "t.audit.custodian@test.unioncase.org"


# What the README names as kept after a deletion request: Frappe's notice to the worker that their
# account was deleted, queued after the erasure ran, until it is sent and the Email Queue is cleared.
# v16's Error Log keeps a failed job's arguments in `metadata`; v15's has no such field (fail_a_job)
def error_log_has_metadata() -> bool:
	return frappe.get_meta("Error Log").has_field("metadata")


ACCOUNT_DELETED_NOTICE = {("tabEmail Queue", "message"), ("tabEmail Queue Recipient", "recipient")}


class TestPrivacyAudit(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		with jobs_run_now():
			ensure_outgoing_email_account()
		make_official(OFFICIAL, "Workplace Union Official", WORKPLACE)
		make_official(CUSTODIAN, "Workplace Union Official", WORKPLACE)
		frappe.get_doc("User", CUSTODIAN).add_roles(IDENTITY_ROLE)
		frappe.db.commit()  # the REST tests log them in on the live server

	def setUp(self):
		frappe.set_user("Administrator")
		self.worker = Identity()

	def tearDown(self):
		frappe.set_user("Administrator")

	# -- what the worker leaves behind before anything is erased -----------------------------------

	def make_worker_member(self, email: str | None = None):
		worker = self.worker
		member = make_member(
			email=email,
			full_name=worker.full_name,
			phone=worker.phone,
			national_id=worker.national_id,
			address=f"Jl. Lama {worker.token}",
		)
		member.address = worker.address
		member.save()  # a Version row holds both addresses
		return member

	def fill_case(self, case):
		"""Put the worker into every free-text field and every place Frappe copies a case's text."""
		worker = self.worker
		case.reload()
		case.update(
			{
				"subject": f"Lembur {worker.token} tidak dibayar",
				"description": f"<p>{worker.full_name} ({worker.phone}) melapor upah lembur {worker.token}.</p>",
				"remedy": f"Bayar {worker.full_name}",
				"closure_notes": f"Ditutup setelah bicara dengan {worker.full_name}",
			}
		)
		case.save()
		frappe.db.set_value(  # the worker's own words on the rating page
			"Grievance",
			case.name,
			{"satisfaction_comment": f"Terima kasih, {worker.full_name}, {worker.phone}"},
			update_modified=False,
		)
		frappe.get_doc(  # a hop's reason, as escalation records it
			{
				"doctype": "Grievance Escalation",
				"parent": case.name,
				"parenttype": "Grievance",
				"parentfield": "escalations",
				"idx": 1,
				"direction": "Up",
				"from_union": WORKPLACE,
				"to_union": WORKPLACE,
				"moved_by": "Administrator",
				"moved_on": frappe.utils.now_datetime(),
				"reason": f"{worker.full_name} diancam",
			}
		).db_insert()
		frappe.db.set_value("Grievance", case.name, "escalation_reason", f"Lindungi {worker.token}")
		case.add_comment("Comment", f"Menelepon {worker.full_name} di {worker.phone}")
		frappe.get_doc(
			{
				"doctype": "Communication",
				"communication_type": "Communication",
				"communication_medium": "Email",
				"sent_or_received": "Received",
				"subject": f"Re: lembur {worker.token}",
				"content": f"Salam, {worker.full_name}",
				"sender": worker.email,
				"reference_doctype": "Grievance",
				"reference_name": case.name,
			}
		).insert(ignore_permissions=True)
		frappe.get_doc(
			{
				"doctype": "File",
				"file_name": f"pernyataan-{worker.token}.txt",
				"attached_to_doctype": "Grievance",
				"attached_to_name": case.name,
				"content": f"Pernyataan {worker.full_name} {worker.national_id}",
				"is_private": 1,
			}
		).insert(ignore_permissions=True)
		# the "assigned a new task" notification, made by its job, and its email, queued without a reference;
		# the queue is held for the test so the email waits there as for a worker's job (tests send at once)
		frappe.db.set_default("suspend_email_queue", 1)
		self.addCleanup(self.release_email_queue)
		with jobs_run_now():
			assign_to.add(
				{
					"assign_to": [OFFICIAL],
					"doctype": "Grievance",
					"name": case.name,
					"description": case.subject,
				},
				ignore_permissions=True,
			)
		frappe.get_doc(  # an alert quoting the case, as the overdue job and escalation write them
			{
				"doctype": "Notification Log",
				"for_user": OFFICIAL,
				"type": "Alert",
				"document_type": "Grievance",
				"document_name": case.name,
				"subject": f"{case.name} is overdue: {case.subject}",
				"email_content": frappe.utils.escape_html(case.subject),
			}
		).insert(ignore_permissions=True)
		frappe.sendmail(
			recipients=[OFFICIAL],
			subject=f"{case.subject} is overdue",
			message=f"{case.subject}: call {worker.full_name}",
			reference_doctype="Grievance",
			reference_name=case.name,
			now=False,
		)
		self.fail_an_email(case)

	@staticmethod
	def release_email_queue():
		frappe.db.commit()  # sends the test left for after its commit find the queue still held
		frappe.db.set_default("suspend_email_queue", 0)
		frappe.db.commit()

	def notification_emails_quoting(self, case) -> list[str]:
		"""Emails to the official, queued without a reference (as Frappe queues a notification's), whose
		message quotes the case's subject."""
		queue, to = frappe.qb.DocType("Email Queue"), frappe.qb.DocType("Email Queue Recipient")
		return (
			frappe.qb.from_(queue)
			.join(to)
			.on(to.parent == queue.name)
			.select(queue.name)
			.where(to.recipient == OFFICIAL)
			.where(queue.reference_name.isnull() | (queue.reference_name == ""))
			.where(queue.message.like(f"%{self.worker.token}%"))
			.run(pluck=True)
		)

	def fail_an_email(self, case):
		"""An email that could not be sent: its failure notice and its trace quote the subject."""
		queued = frappe.get_all(
			"Email Queue",
			filters={"reference_doctype": "Grievance", "reference_name": case.name},
			pluck="name",
			limit=1,
		)[0]
		frappe.db.set_value("Email Queue", queued, {"status": "Error", "error": f"Failed: {case.subject}"})
		frappe.get_doc(
			{
				"doctype": "Notification Log",
				"for_user": "Administrator",
				"type": "Alert",
				"document_type": "Email Queue",
				"document_name": queued,
				"subject": f"Failed to send email with subject: {case.subject}",
			}
		).insert(ignore_permissions=True)
		try:
			raise ConnectionError(f"SMTP refused the message {case.subject!r}")
		except ConnectionError:
			frappe.log_error(title="Email not sent", reference_doctype="Email Queue", reference_name=queued)

	def fail_a_job(self, email: str):
		"""A failed background job's Error Log, as the framework writes it, holding the job's arguments:
		v16 keeps them in the log's `metadata` (JSON); v15's Error Log has no such field, and its trace is
		taken with context (frappe.log_error: get_traceback(with_context=True)), local variables shown."""
		worker = self.worker
		kwargs = {"user": {"email": email, "first_name": worker.first_name, "username": worker.token}}
		log = {"doctype": "Error Log", "method": "create_contact"}
		if error_log_has_metadata():
			log["error"] = f"Traceback: cannot create contact for {email}"
			log["metadata"] = json.dumps(
				{
					"type": "background_job",
					"job_name": "frappe.core.doctype.user.user.create_contact",
					"kwargs": kwargs,
				}
			)
		else:
			log["error"] = (
				"Traceback (most recent call last):\n"
				'  File "apps/frappe/frappe/utils/background_jobs.py", line 289, in execute_job\n'
				"    retval = method(**kwargs)\n"
				f"      kwargs = {kwargs!r}\n"
				f"      job_name = 'frappe.core.doctype.user.user.create_contact'\n"
				f"ValueError: cannot create contact for {email}"
			)
		frappe.get_doc(log).insert(ignore_permissions=True)

	def job_arguments_logged(self) -> str:
		"""Where the framework keeps the failed job's arguments (see fail_a_job)."""
		return frappe.get_all(
			"Error Log",
			filters={"method": "create_contact"},
			pluck="metadata" if error_log_has_metadata() else "error",
			order_by="creation desc",
			limit=1,
		)[0]

	def make_website_user(self) -> str:
		worker = self.worker
		with users_unthrottled():
			frappe.get_doc(
				{
					"doctype": "User",
					"email": worker.email,
					"first_name": worker.first_name,
					"last_name": worker.last_name,
					"username": worker.token,
					"mobile_no": worker.phone.replace("-", ""),
					"send_welcome_email": 0,
				}
			).insert(ignore_permissions=True)
		frappe.defaults.set_user_default("unioncase_last_union", WORKPLACE, user=worker.email)
		return worker.email

	def assertNoCopyLeft(self, kept=frozenset()):
		sync_global_search()  # as the scheduler does: queued search items must not bring anything back
		found = everywhere(self.worker.needles())
		found["database"] = {column: rows for column, rows in found["database"].items() if column not in kept}
		self.assertEqual(found, {"database": {}, "files": {}, "redis": {}})

	def assertCopiesExist(self):
		"""The setup put the worker where the audit looks (a search that cannot find cannot pass)."""
		sync_global_search()
		found = everywhere(self.worker.needles())
		tables = {table for table, _column in found["database"]}
		for table in ("tabGrievance", "tabComment", "tabNotification Log", "tabEmail Queue", "tabError Log"):
			self.assertIn(table, tables)
		self.assertIn("__global_search", tables)
		self.assertTrue(found["files"], "the attachment on disk")
		return found

	# -- the tests ---------------------------------------------------------------------------------

	def test_a_deletion_request_leaves_no_copy_of_the_worker(self):
		email = self.make_website_user()
		member = self.make_worker_member(email)
		cases = [make_case(member.name), make_case(None, reporter_name=self.worker.full_name)]
		frappe.db.set_value(
			"Grievance",
			cases[1].name,
			{"reporter_email": email, "reporter_phone": self.worker.phone, "reporter_type": "Non-member"},
		)
		confidential = make_case(member.name, is_confidential=1, identity_custodians=[{"user": CUSTODIAN}])
		for case in (*cases, confidential):
			self.fill_case(case)
		self.fail_a_job(email)
		sync_global_search()
		# a later save queues the user and the contact for the search index again (Redis)
		frappe.get_doc("User", email).save(ignore_permissions=True)
		self.assertCopiesExist()

		request = frappe.get_doc({"doctype": "Personal Data Deletion Request", "email": email})
		request.insert(ignore_permissions=True)
		request.status = "Pending Approval"
		request.save(ignore_permissions=True)
		with jobs_run_now():
			request.trigger_data_deletion()
		request.reload()
		self.assertEqual(request.status, "Deleted")
		notice = frappe.get_all("Email Queue Recipient", filters={"recipient": email}, pluck="parent")
		self.assertEqual(len(notice), 1, "only Frappe's notice that the account was deleted")
		self.assertNoCopyLeft(kept=ACCOUNT_DELETED_NOTICE)
		for case in (*cases, confidential):  # statistics stay
			self.assertEqual(frappe.db.get_value("Grievance", case.name, "severity"), "High")

	def test_erasing_a_member_without_a_login_after_a_withdrawal_leaves_no_copy(self):
		member = self.make_worker_member()
		cases = [make_case(member.name), make_case(member.name, severity="Low")]
		for case in cases:
			self.fill_case(case)
		frappe.set_user(CUSTODIAN)
		withdraw_consent(member.name)  # cuts the member link first
		frappe.set_user(OFFICIAL)  # an official without the Identity Custodian role may not erase
		with self.assertRaises(frappe.PermissionError):
			erase_member(member.name)
		frappe.set_user(CUSTODIAN)
		result = erase_member(member.name)
		frappe.set_user("Administrator")
		self.assertEqual(set(result["cases"]), {case.name for case in cases})
		for case in cases:
			self.assertFalse(frappe.get_all("File", filters={"attached_to_name": case.name}))
			self.assertFalse(frappe.get_all("Comment", filters={"reference_name": case.name}))
		self.assertFalse(frappe.db.exists("Withdrawn Reporter", {"member": member.name}))
		self.assertNoCopyLeft()

	def test_erase_member_over_rest_refuses_an_official_and_serves_a_custodian(self):
		member = make_member()
		frappe.db.commit()  # the live server reads committed rows (and waits on no lock of ours)
		path = "/api/method/unioncase.privacy.erasure.erase_member"
		refused = RestSession(OFFICIAL).post(path, member=member.name)
		self.assertEqual(refused.status_code, 403, refused.text)
		self.assertIsNone(frappe.db.get_value("Union Member", member.name, "redacted_on"))
		self.assertIn(RestSession(CUSTODIAN).get(path, member=member.name).status_code, (403, 405))
		frappe.db.rollback()
		self.assertIsNone(frappe.db.get_value("Union Member", member.name, "redacted_on"))
		done = RestSession(CUSTODIAN).post(path, member=member.name)
		self.assertEqual(done.status_code, 200, done.text)
		frappe.db.rollback()
		self.assertTrue(frappe.db.get_value("Union Member", member.name, "redacted_on"))

	def test_retention_leaves_no_copy_of_the_case(self):
		worker = self.worker
		case = make_case(
			None,
			reporter_name=worker.full_name,
			reporter_phone=worker.phone,
			reporter_email=worker.email,
			reporter_type="Non-member",
		)
		self.fill_case(case)
		self.assertCopiesExist()
		self.assertTrue(self.notification_emails_quoting(case), "the assignment notice's email")
		frappe.db.set_value(
			"Grievance",
			case.name,
			{"status": "Closed", "resolved_on": add_days(today(), -800)},
			update_modified=False,
		)
		settings = frappe.get_single("Privacy Settings")
		settings.update(
			{
				"enable_retention": 1,
				"retention_days": 730,
				"redact_case_text": 1,
				"delete_case_comments": 1,
				"delete_attachments": 1,
			}
		)
		redact_due_cases(settings)
		self.assertTrue(frappe.db.get_value("Grievance", case.name, "redacted_on"))
		self.assertFalse(self.notification_emails_quoting(case))
		self.assertNoCopyLeft()

	def test_a_withdrawal_leaves_the_worker_only_on_their_member_record(self):
		member = self.make_worker_member()
		cases = [make_case(member.name), make_case(member.name, is_confidential=1)]
		for case in cases:
			case.add_comment("Comment", f"Anggota {member.name} hadir")  # no identity: stays
			case.add_comment("Comment", f"Menelepon {self.worker.full_name} di {self.worker.phone}")
		frappe.set_user(CUSTODIAN)
		withdraw_consent(member.name)
		frappe.set_user("Administrator")
		sync_global_search()
		found = everywhere(self.worker.needles())
		member_versions = set(
			frappe.get_all(
				"Version", filters={"ref_doctype": "Union Member", "docname": member.name}, pluck="name"
			)
		)
		for (table, _column), rows in found["database"].items():
			with self.subTest(table=table):
				if table == "tabVersion":
					self.assertTrue({row.split(":")[0] for row in rows} <= member_versions, rows)
				else:
					self.assertEqual(table, "tabUnion Member", rows)
		self.assertEqual((found["files"], found["redis"]), ({}, {}))
		comments = frappe.get_all(
			"Comment",
			filters={"reference_name": ["in", [case.name for case in cases]], "comment_type": "Comment"},
			pluck="content",
		)
		self.assertEqual(len(comments), 4)  # the open cases' notes stay, without the worker in them
		self.assertEqual(sum(f"Anggota {member.name} hadir" in comment for comment in comments), 2)

	def test_a_failed_jobs_metadata_is_stored_without_the_worker(self):
		self.fail_a_job(self.worker.email)
		logged = self.job_arguments_logged()
		self.assertIn("create_contact", logged)
		self.assertNotIn(self.worker.token, logged)  # email, first name and username all carry it

	def test_an_anonymous_report_keeps_no_identity_anywhere(self):
		worker = self.worker
		identity = {
			"reporter_name": worker.full_name,
			"reporter_phone": worker.phone,
			"reporter_email": worker.email,
			"member": None,
		}
		values = {
			"doctype": "Grievance",
			"subject": "Upah lembur",
			"kind": "Complaint",
			"owning_union": WORKPLACE,
			"is_anonymous": 1,
			"reporter_type": "Non-member",
			"severity": "High",
			**identity,
		}
		frappe.db.commit()  # nothing of earlier tests holds a lock the live server waits on
		response = RestSession(CUSTODIAN).post(
			"/api/resource/Grievance",
			data=json.dumps({key: value for key, value in values.items() if key != "doctype"}),
		)
		self.assertEqual(response.status_code, 200, response.text)
		over_rest = response.json()["data"]["name"]
		frappe.db.rollback()
		in_process = new_case(dict(values))
		for name in (in_process.name, over_rest):
			self.assertTrue(frappe.db.get_value("Grievance", name, "is_anonymous"))
		self.assertNoCopyLeft()
