"""An export of everything held about one member, for custodians in scope and administrators only."""

import frappe
from frappe.deferred_insert import save_to_db

from unioncase.compat import IntegrationTestCase
from unioncase.privacy.identity import IDENTITY_ROLE
from unioncase.privacy.member_export import export_member_data
from unioncase.tests.hierarchy_data import ensure_hierarchy, ensure_user, member_name
from unioncase.tests.privacy_data import WORKPLACE, ensure_role, make_case, make_member
from unioncase.tests.rest_client import RestSession

CUSTODIAN = "t.custodian.bogor@test.unioncase.org"
OTHER_CUSTODIAN = "t.custodian.riau@test.unioncase.org"
EXPORT = "/api/method/unioncase.privacy.member_export.export_member_data"


class TestMemberExport(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		ensure_role(IDENTITY_ROLE)
		# custodians are officials the federation gave the role
		for email, branch in ((CUSTODIAN, "T Cabang Bogor"), (OTHER_CUSTODIAN, "T Cabang Riau")):
			ensure_user(email, "Branch Official", branch)
			frappe.get_doc("User", email).add_roles("Branch Official", IDENTITY_ROLE)
		frappe.db.commit()

	def setUp(self):
		frappe.set_user("Administrator")
		self.member = make_member(email=f"worker-{frappe.generate_hash(length=6)}@example.org")
		self.case = make_case(self.member.name)
		self.case.add_comment("Comment", "Met the worker at the gate.")

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_a_custodian_in_scope_exports_everything_and_it_is_logged(self):
		frappe.set_user(CUSTODIAN)
		data = export_member_data(self.member.name)
		frappe.set_user("Administrator")
		save_to_db()  # Frappe queues Access Log rows and writes them in a scheduled job
		self.assertEqual(data["member"]["national_id"], "3201234567890001")
		self.assertEqual([event.event for event in data["consent_history"]], ["Given"])
		(case,) = data["cases"]
		self.assertEqual((case["name"], case["member"]), (self.case.name, self.member.name))
		self.assertEqual([comment.content for comment in case["comments"]], ["Met the worker at the gate."])
		self.assertEqual([event.event for event in case["consent_history"]], ["Given"])
		self.assertTrue(
			frappe.db.exists(
				"Access Log",
				{"user": CUSTODIAN, "export_from": "Union Member", "reference_document": self.member.name},
			)
		)

	def test_a_custodian_exports_only_the_cases_in_their_part_of_the_tree(self):
		elsewhere = make_case(
			None,
			owning_union="T PUK Riau Satu",
			reporter_type="Non-member",
			reporter_name="Siti R.",
			reporter_email=self.member.email,
		)
		frappe.set_user(CUSTODIAN)
		exported = [case["name"] for case in export_member_data(self.member.name)["cases"]]
		self.assertEqual(exported, [self.case.name])
		frappe.set_user("Administrator")
		everything = [case["name"] for case in export_member_data(self.member.name)["cases"]]
		self.assertEqual(sorted(everything), sorted([self.case.name, elsewhere.name]))

	def test_others_are_refused(self):
		for user in (
			OTHER_CUSTODIAN,
			"t.branch.bogor@test.unioncase.org",
			"t.researcher.sawit@test.unioncase.org",
		):
			frappe.set_user(user)
			with self.subTest(user=user), self.assertRaises(frappe.PermissionError):
				export_member_data(self.member.name)
		frappe.set_user("t.admin@test.unioncase.org")
		self.assertEqual(export_member_data(self.member.name)["member"]["name"], self.member.name)

	def test_over_rest(self):
		frappe.db.commit()  # release the naming-series and row locks this class's inserts hold
		member = frappe.db.get_value("Union Member", {"full_name": member_name(WORKPLACE)})
		self.assertEqual(RestSession(CUSTODIAN).get(EXPORT, member=member).status_code, 403)  # POST only
		allowed = RestSession(CUSTODIAN).post(EXPORT, member=member)
		self.assertEqual(allowed.status_code, 200, allowed.text)
		self.assertEqual(allowed.json()["message"]["member"]["name"], member)
		refused = RestSession(OTHER_CUSTODIAN).post(EXPORT, member=member)
		self.assertEqual(refused.status_code, 403, refused.text)
		self.assertNotIn(member_name(WORKPLACE), refused.text)
