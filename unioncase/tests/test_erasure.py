"""Frappe's deletion and download requests reach UnionCase's members and the cases they reported."""

import json

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.privacy.confidential import SEALED
from unioncase.privacy.erasure import erase_personal_data
from unioncase.privacy.identity import IDENTITY_FIELDS, IDENTITY_ROLE
from unioncase.privacy.member_export import export_member_data, member_data
from unioncase.tests.harness import changes_tracked, jobs_run_now
from unioncase.tests.hierarchy_data import ensure_hierarchy, ensure_user
from unioncase.tests.privacy_data import (
	WORKPLACE,
	ensure_outgoing_email_account,
	make_case,
	make_member,
	make_website_user,
)

STATISTICS = ("kind", "severity", "owning_union", "workplace_union", "workers_affected", "reporter_gender")


class TestErasure(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		with jobs_run_now():  # Frappe skips the SMTP check in tests
			ensure_outgoing_email_account()

	def setUp(self):
		frappe.set_user("Administrator")
		self.email = make_website_user(f"worker-{frappe.generate_hash(length=8)}@example.org")
		self.member = make_member(email=self.email)
		self.member.address = "Jl. Mawar 9, Bogor"
		with changes_tracked():
			self.member.save()  # a Version row holds both addresses
		self.member_cases = [make_case(self.member.name), make_case(self.member.name, severity="Critical")]
		self.email_case = make_case(
			None, reporter_name="Siti R.", reporter_phone="0812-5555-6666", reporter_email=self.email
		)
		self.other = make_case(make_member().name)

	def member_versions_naming(self, text: str) -> list[str]:
		versions = frappe.get_all(
			"Version", filters={"ref_doctype": "Union Member", "docname": self.member.name}, pluck="data"
		)
		return [data for data in versions if text in data]

	def test_user_data_fields_cover_the_identity_fields(self):
		for doctype, fields in IDENTITY_FIELDS.items():
			declared = [hook for hook in frappe.get_hooks("user_data_fields") if hook["doctype"] == doctype]
			covered = {hook["filter_by"] for hook in declared}.union(
				*(hook.get("redact_fields", []) for hook in declared)
			)
			links = {df.fieldname for df in frappe.get_meta(doctype).get_link_fields()}
			with self.subTest(doctype=doctype):
				self.assertEqual(set(fields) - links, covered)

	def test_a_deletion_request_anonymises_the_member_and_their_cases(self):
		before = {
			case.name: frappe.db.get_value("Grievance", case.name, STATISTICS, as_dict=True)
			for case in (*self.member_cases, self.email_case)
		}
		self.assertTrue(self.member_versions_naming('"address"'), "the history recorded the change")
		request = frappe.get_doc({"doctype": "Personal Data Deletion Request", "email": self.email})
		request.insert(ignore_permissions=True)
		request.status = "Pending Approval"  # the user clicked the link in the verification mail
		request.save(ignore_permissions=True)
		with jobs_run_now():
			request.trigger_data_deletion()
		request.reload()
		self.assertEqual(request.status, "Deleted")

		member = frappe.get_doc("Union Member", self.member.name)
		self.assertTrue(member.redacted_on)
		self.assertNotIn("Siti", member.full_name)
		for field in ("phone", "email", "national_id", "address", "date_of_birth"):
			self.assertFalse(member.get(field), field)
		self.assertEqual((member.workplace_union, member.gender), (self.member.workplace_union, "Female"))
		member_versions = frappe.get_all(
			"Version", filters={"ref_doctype": "Union Member", "docname": member.name}, pluck="data"
		)
		self.assertFalse([data for data in member_versions if "Bogor" in data])
		for name, statistics in before.items():
			case = frappe.get_doc("Grievance", name)
			with self.subTest(case=name):
				for field in IDENTITY_FIELDS["Grievance"]:
					self.assertFalse(case.get(field), field)
				self.assertNotIn("Siti", case.description)
				self.assertEqual({field: case.get(field) for field in STATISTICS}, statistics)
				self.assertEqual(
					frappe.db.get_value("Personal Data Redaction Log", {"reference_name": name}, "rule"),
					"Deletion Request",
				)
		self.assertEqual(frappe.db.get_value("Grievance", self.other.name, "member"), self.other.member)

	def test_a_download_request_includes_the_members_cases(self):
		frappe.set_user(self.email)
		with jobs_run_now():
			request = frappe.get_doc({"doctype": "Personal Data Download Request", "user": self.email})
			request.insert(ignore_permissions=True)
		frappe.set_user("Administrator")
		files = {
			file.file_name: frappe.get_doc("File", file.name).get_content()
			for file in frappe.get_all(
				"File",
				filters={
					"attached_to_doctype": "Personal Data Download Request",
					"attached_to_name": request.name,
				},
				fields=["name", "file_name"],
			)
		}
		frappe_file = next(
			content for file_name, content in files.items() if file_name.startswith("Personal-Data")
		)
		self.assertIn(self.member.name, frappe_file)  # user_data_fields: the member record by email
		self.assertIn(self.email_case.name, frappe_file)  # and the case filed with that email
		ours = json.loads(files[f"UnionCase-Data-{request.name}.json"])
		exported = ours["Union Member"][0]
		self.assertEqual(exported["member"]["national_id"], "3201234567890001")
		self.assertEqual(
			{case["name"] for case in exported["cases"]},
			{case.name for case in (*self.member_cases, self.email_case)},
		)
		self.assertEqual([event["event"] for event in exported["consent_history"]], ["Given"])


class TestConfidentialCasesOfAMember(IntegrationTestCase):
	"""A confidential case keeps its reporter sealed off the case: erasure and export still find it."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		cls.custodians = []
		for email in ("t.custodian.erasure@test.unioncase.org", "t.custodian.erasure2@test.unioncase.org"):
			ensure_user(email, "Workplace Union Official", WORKPLACE)
			frappe.get_doc("User", email).add_roles(IDENTITY_ROLE)
			cls.custodians.append(email)

	def setUp(self):
		frappe.set_user("Administrator")
		self.email = f"worker-{frappe.generate_hash(length=8)}@example.org"
		self.member = make_member(email=self.email)
		self.case = make_case(
			self.member.name, is_confidential=1, identity_custodians=[{"user": self.custodians[0]}]
		)

	def tearDown(self):
		frappe.set_user("Administrator")

	def exported_cases(self, user: str) -> dict:
		frappe.set_user(user)
		return {case["name"]: case for case in export_member_data(self.member.name)["cases"]}

	def test_the_case_is_sealed_and_exported_only_to_its_named_custodian(self):
		self.assertIsNone(frappe.db.get_value("Grievance", self.case.name, "member"))
		self.assertEqual(frappe.db.get_value(SEALED, self.case.name, "member"), self.member.name)
		self.assertEqual(self.exported_cases(self.custodians[0])[self.case.name]["member"], self.member.name)
		self.assertNotIn(self.case.name, self.exported_cases(self.custodians[1]))
		frappe.set_user("Administrator")
		own_request = member_data(self.member.name, include_sealed=True)
		self.assertIn(self.case.name, [case["name"] for case in own_request["cases"]])

	def test_erasure_removes_the_sealed_reporter(self):
		erased = erase_personal_data(self.email)
		self.assertIn(self.case.name, erased["cases"])
		self.assertFalse(frappe.db.exists(SEALED, self.case.name))
		self.assertTrue(frappe.db.get_value("Grievance", self.case.name, "redacted_on"))
