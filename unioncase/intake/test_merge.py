"""Merge from the inbox: a message that made no case is attached to an existing case, so one problem
stays one case; only by officials who may read the message and write the case."""

from email.message import EmailMessage

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.intake import email, files, inbox
from unioncase.tests.hierarchy_data import case_subject, ensure_hierarchy
from unioncase.tests.intake_data import EXE, PNG, receive_report
from unioncase.tests.rest_client import RestSession

BOGOR = "T PUK Bogor Satu"
RIAU = "T PUK Riau Satu"
ADMIN = "t.admin@test.unioncase.org"
BOGOR_BRANCH = "t.branch.bogor@test.unioncase.org"
RIAU_BRANCH = "t.branch.riau@test.unioncase.org"
MERGE = "/api/method/unioncase.intake.inbox.merge"


class TestMerge(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.cases = ensure_hierarchy()
		frappe.db.set_single_value("Intake Settings", "default_union", None)
		frappe.db.commit()

	def failed_report(self, union=None) -> str:
		"""A web report that made no case (no union to take it), with a photo attached."""
		name, _created = receive_report(
			frappe.generate_hash(), union, description="Lembur dipaksa tanpa bayaran tiap Minggu."
		)
		files.save(PNG, inbox.INBOUND, name, "lampiran-1")
		frappe.db.commit()
		if union is None:
			self.assertEqual(inbox.process_message(name), "Failed")
		return name

	def test_an_unmatched_message_joins_an_existing_case_with_its_files(self):
		name = self.failed_report()
		case = self.cases[BOGOR]
		files_before = case_files(case)
		answer = RestSession(ADMIN).post(MERGE, name=name, case=case)
		self.assertEqual(answer.status_code, 200, answer.text[:300])
		frappe.db.rollback()
		merged = frappe.get_doc(inbox.INBOUND, name)
		self.assertEqual((merged.state, merged.grievance, merged.kind), ("Processed", case, "Follow-up"))
		self.assertIn(ADMIN, merged.state_reason)
		content = frappe.db.get_value("Case Message", {"inbound_message": name}, ["grievance", "content"])
		self.assertEqual(content, (case, "Lembur dipaksa tanpa bayaran tiap Minggu."))
		self.assertEqual(case_files(case), files_before + 1, "the photo moved to the case")
		self.assertFalse(frappe.db.exists("File", {"attached_to_name": name}))
		self.assertEqual(frappe.db.count(inbox.INBOUND, {"name": name, "grievance": case}), 1)
		again = RestSession(ADMIN).post(MERGE, name=name, case=case)
		self.assertEqual(again.status_code, 417)
		self.assertIn("already part of case", again.text)

	def test_a_quarantined_mail_joins_without_its_unsafe_attachment(self):
		message = EmailMessage()
		message["From"], message["To"], message["Subject"] = "a@pekerja.test", "x@serikat.test", "Slip"
		message["Message-ID"] = f"<{frappe.generate_hash()}@pekerja.test>"
		message.set_content("Slip gaji saya dipotong iuran yang tidak saya setujui.")
		message.add_attachment(EXE, maintype="image", subtype="png", filename="slip.png")
		name, _created = email.receive("no such mailbox", message.as_bytes())
		self.assertEqual(inbox.process_message(name), "Quarantined")
		case = self.cases[BOGOR]
		files_before = case_files(case)
		answer = RestSession(ADMIN).post(MERGE, name=name, case=case)
		self.assertEqual(answer.status_code, 200, answer.text[:300])
		frappe.db.rollback()
		self.assertEqual(
			frappe.db.get_value("Case Message", {"inbound_message": name}, "content"),
			"Slip gaji saya dipotong iuran yang tidak saya setujui.",
		)
		self.assertFalse(frappe.db.exists("File", {"file_name": ["like", "slip%"]}))
		self.assertEqual(case_files(case), files_before, "the unsafe attachment is never saved")

	def test_only_officials_who_read_the_message_and_write_the_case_merge(self):
		bogor_message = self.failed_report(BOGOR)  # Received, waiting in Bogor's inbox
		riau = RestSession(RIAU_BRANCH)
		self.assertEqual(riau.post(MERGE, name=bogor_message, case=self.cases[RIAU]).status_code, 403)
		bogor = RestSession(BOGOR_BRANCH)
		self.assertEqual(bogor.post(MERGE, name=bogor_message, case=self.cases[RIAU]).status_code, 403)
		frappe.db.rollback()
		self.assertIsNone(frappe.db.get_value(inbox.INBOUND, bogor_message, "grievance"))
		answer = bogor.post(MERGE, name=bogor_message, case=self.cases[BOGOR])
		self.assertEqual(answer.status_code, 200, answer.text[:300])
		frappe.db.rollback()
		self.assertEqual(frappe.db.get_value(inbox.INBOUND, bogor_message, "grievance"), self.cases[BOGOR])
		self.assertEqual(frappe.db.get_value("Grievance", self.cases[BOGOR], "subject"), case_subject(BOGOR))


def case_files(case: str) -> int:
	return frappe.db.count("File", {"attached_to_doctype": "Grievance", "attached_to_name": case})
