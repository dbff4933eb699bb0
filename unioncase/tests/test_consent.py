"""Consent is recorded with its text version and time on every intake path, and a member can withdraw it."""

import datetime
import json

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.privacy.consent import (
	consent_history,
	current_consent_text,
	record_consent,
	withdraw_consent,
)
from unioncase.privacy.identity import IDENTITY_ROLE
from unioncase.tests.harness import changes_tracked
from unioncase.tests.hierarchy_data import ensure_hierarchy, make_official
from unioncase.tests.privacy_data import WORKPLACE, consent_text, make_case, make_member, make_website_user
from unioncase.tests.rest_client import RestSession

IN_SCOPE = "t.branch.bogor@test.unioncase.org"
OUT_OF_SCOPE = "t.branch.riau@test.unioncase.org"


class TestConsent(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		cls.text = consent_text()
		cls.custodian = make_official(
			"t.custodian.consent@test.unioncase.org", "Branch Official", "T Cabang Bogor"
		)
		frappe.get_doc("User", cls.custodian).add_roles(IDENTITY_ROLE)

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_a_named_case_needs_consent(self):
		named = frappe.get_doc(
			{
				"doctype": "Grievance",
				"subject": "Dipecat setelah bergabung dengan serikat",
				"owning_union": WORKPLACE,
				"reporter_type": "Non-member",
				"reporter_name": "Budi Santoso",
			}
		)
		with self.assertRaisesRegex(frappe.ValidationError, "needs their consent"):
			named.insert()
		anonymous = frappe.get_doc(
			{
				"doctype": "Grievance",
				"subject": "Dipecat setelah bergabung dengan serikat",
				"owning_union": WORKPLACE,
				"is_anonymous": 1,
				"reporter_name": "Budi Santoso",
			}
		).insert()
		self.assertFalse(anonymous.consent_given)
		self.assertIsNone(anonymous.reporter_name)

	def test_walk_in_records_the_version_read_to_the_worker(self):
		case = frappe.get_doc(
			{
				"doctype": "Grievance",
				"subject": "Upah di bawah minimum",
				"owning_union": WORKPLACE,
				"channel": "Walk-in",
				"reporter_type": "Non-member",
				"reporter_name": "Budi Santoso",
				"consent_given": 1,
			}
		)
		with self.assertRaises(frappe.ValidationError):
			case.insert()  # ticked, but which text was read is not recorded
		case.consent_text_version = self.text
		case.insert()
		self.assertIsNotNone(case.consent_given_on)
		self.assertEqual(
			[(event.event, event.consent_text) for event in consent_history("Grievance", case.name)],
			[("Given", self.text)],
		)

	def test_record_consent_is_the_intake_entry_point(self):
		case = frappe.get_doc(
			{"doctype": "Grievance", "subject": "Upah", "owning_union": WORKPLACE, "reporter_name": "Budi"}
		)
		record_consent(case, self.text).insert()
		self.assertEqual((case.consent_given, case.consent_text_version), (1, self.text))
		with self.assertRaises(frappe.LinkValidationError):
			record_consent(case, "no-such-version")

	def test_rest_intake_records_consent_for_cases_and_members(self):
		frappe.db.commit()  # release the naming-series and row locks this class's inserts hold
		# Recording who reports is for officials the federation gave the Identity Custodian role.
		intake_official = make_official(
			"t.intake.bogor1@test.unioncase.org", "Workplace Union Official", WORKPLACE
		)
		frappe.get_doc("User", intake_official).add_roles(IDENTITY_ROLE)
		frappe.db.commit()
		session = RestSession(intake_official)
		subject = f"REST tanpa persetujuan {frappe.generate_hash(length=6)}"
		refused = session.post(
			"/api/resource/Grievance",
			data=json.dumps({"subject": subject, "owning_union": WORKPLACE, "reporter_name": "X"}),
		)
		self.assertEqual(refused.status_code, 417, refused.text)
		self.assertFalse(frappe.db.exists("Grievance", {"subject": subject}))
		member = session.post(
			"/api/resource/Union Member",
			data=json.dumps(
				{
					"full_name": f"REST Member {frappe.generate_hash(length=5)}",
					"workplace_union": WORKPLACE,
					"consent_given": 1,
					"consent_text_version": self.text,
				}
			),
		)
		self.assertEqual(member.status_code, 200, member.text)
		member = member.json()["data"]["name"]
		case = session.post(
			"/api/resource/Grievance",
			data=json.dumps(
				{
					"subject": "REST dengan persetujuan",
					"owning_union": WORKPLACE,
					"member": member,
					"consent_given": 1,
					"consent_text_version": self.text,
				}
			),
		)
		self.assertEqual(case.status_code, 200, case.text)
		case = case.json()["data"]
		self.assertTrue(case["consent_given_on"])
		frappe.db.commit()  # a fresh snapshot: read what the server committed
		for doctype, name in (("Union Member", member), ("Grievance", case["name"])):
			with self.subTest(doctype=doctype):
				self.assertEqual([e.event for e in consent_history(doctype, name)], ["Given"])

	def test_withdrawal_removes_the_member_from_their_cases(self):
		member = make_member()
		open_case = make_case(None, reporter_type="Non-member", reporter_name="Siti R.")
		open_case.update({"reporter_type": "Member", "member": member.name, "reporter_name": None})
		open_case.severity = "Critical"
		with changes_tracked():
			open_case.save()  # a Version row now names the member
		closed_case = make_case(member.name, status="Closed", outcome="Not Resolved", remedy="-")

		for refused in (OUT_OF_SCOPE, IN_SCOPE):  # IN_SCOPE lacks the Identity Custodian role
			frappe.set_user(refused)
			with self.assertRaises(frappe.PermissionError):
				withdraw_consent(member.name)
		frappe.set_user(self.custodian)
		result = withdraw_consent(member.name)
		frappe.set_user("Administrator")

		self.assertEqual(result["cases_redacted"], 2)
		member.reload()
		self.assertEqual((member.consent_given, bool(member.consent_withdrawn_on)), (0, True))
		self.assertEqual(member.full_name[:11], "Siti Rahayu")  # the membership itself stays
		self.assertEqual(
			[e.event for e in consent_history("Union Member", member.name)], ["Given", "Withdrawn"]
		)
		for case in (open_case, closed_case):
			case.reload()
			with self.subTest(case=case.name):
				self.assertIsNone(case.member)
				# no time on the case to match against the member's withdrawal
				self.assertEqual(
					(case.consent_given, case.consent_given_on, case.consent_withdrawn_on), (0, None, None)
				)
				self.assertTrue(
					frappe.db.exists("Withdrawn Reporter", {"member": member.name, "grievance": case.name})
				)
				self.assertIsNone(case.redacted_on)  # retention still clears the case text later
				self.assertEqual(case.severity, closed_case.severity if case is closed_case else "Critical")
				self.assertEqual(
					frappe.db.get_value(
						"Personal Data Redaction Log",
						{"reference_name": case.name},
						"rule",
					),
					"Consent Withdrawn",
				)
				versions = frappe.get_all(
					"Version", filters={"ref_doctype": "Grievance", "docname": case.name}, pluck="data"
				)
				# (Versions show a link by its title: the member's name)
				self.assertFalse([data for data in versions if member.full_name in data or "Siti R." in data])
		case = frappe.get_doc("Grievance", open_case.name)
		case.description = "Still being handled."
		case.save()  # a case without identity saves without consent

	def test_nothing_an_official_reads_ties_a_withdrawn_case_to_its_member(self):
		member = make_member()
		cases = {make_case(member.name).name, make_case(member.name, severity="Low").name}
		frappe.set_user(self.custodian)
		withdraw_consent(member.name)
		frappe.set_user(IN_SCOPE)  # an official of the member's and the cases' branch
		member_row = frappe.get_list("Union Member", filters={"name": member.name}, fields=["*"])[0]
		self.assertTrue(member_row.consent_withdrawn_on)
		member_times = {str(member_row.consent_withdrawn_on)}  # to the microsecond, as it was matched
		case_rows = frappe.get_list("Grievance", filters={"name": ["in", list(cases)]}, fields=["*"])
		self.assertEqual({row.name for row in case_rows}, cases)
		for row in case_rows:
			with self.subTest(case=row.name):
				case_times = {
					str(value)
					for value in row.values()
					if isinstance(value, datetime.datetime | datetime.date)
				}
				self.assertFalse(member_times & case_times, member_times & case_times)
				self.assertEqual((row.consent_given, row.consent_withdrawn_on), (0, None))
				# the case says nothing of who it was: no member, no consent given at some time
				self.assertEqual((row.member, row.consent_given_on), (None, None))
		with self.assertRaises(frappe.PermissionError):  # the kept link is read by no role
			frappe.get_list("Withdrawn Reporter", filters={"member": member.name})

	def test_a_member_can_withdraw_their_own_consent(self):
		email = f"worker-{frappe.generate_hash(length=6)}@example.org"
		member = make_member(email=make_website_user(email))
		make_case(member.name)
		frappe.set_user(email)
		withdraw_consent(member.name)
		frappe.set_user("Administrator")
		self.assertTrue(frappe.db.get_value("Union Member", member.name, "consent_withdrawn_on"))
		self.assertFalse(frappe.db.exists("Grievance", {"member": member.name}))
		other = make_member()
		frappe.set_user(email)
		with self.assertRaises(frappe.PermissionError):
			withdraw_consent(other.name)

	def test_consent_is_withdrawn_from_a_member_only_through_withdrawal(self):
		member = make_member()
		member.consent_given = 0
		with self.assertRaisesRegex(frappe.ValidationError, "Use Withdraw Consent"):
			member.save()

	def test_unticking_consent_on_a_case_is_a_withdrawal(self):
		case = make_case(None, reporter_name="Budi Santoso")
		case.consent_given = 0
		with self.assertRaisesRegex(frappe.ValidationError, "needs their consent"):
			case.save()  # the case would keep a name without consent
		case.reload()
		case.update({"consent_given": 0, "reporter_name": None}).save()
		self.assertTrue(case.consent_withdrawn_on)
		self.assertEqual([e.event for e in consent_history("Grievance", case.name)], ["Given", "Withdrawn"])
		record_consent(case, self.text).save()
		self.assertIsNone(case.consent_withdrawn_on)
		self.assertEqual(
			[e.event for e in consent_history("Grievance", case.name)], ["Given", "Withdrawn", "Given"]
		)

	def test_cases_from_before_consent_was_recorded_can_still_be_worked_on(self):
		case = make_case(None, reporter_name="Budi Santoso")
		frappe.db.set_value(  # as on a site upgraded from a version without consent fields
			"Grievance",
			case.name,
			{"consent_given": 0, "consent_text_version": None, "consent_given_on": None},
		)
		case = frappe.get_doc("Grievance", case.name)
		case.severity = "Critical"
		case.save()
		case.reporter_name = "Budi S."
		with self.assertRaisesRegex(frappe.ValidationError, "needs their consent"):
			case.save()

	def test_withdrawal_over_rest(self):
		email = make_website_user(f"worker-{frappe.generate_hash(length=6)}@example.org")
		member = make_member(email=email)
		case = make_case(member.name)
		frappe.db.commit()  # the server sees the member; releases this class's locks
		method = "/api/method/unioncase.privacy.consent.withdraw_consent"
		refused = RestSession(OUT_OF_SCOPE).post(method, member=member.name)
		self.assertEqual(refused.status_code, 403, refused.text)
		response = RestSession(email).post(method, member=member.name)
		self.assertEqual(response.status_code, 200, response.text)
		self.assertEqual(response.json()["message"]["cases_redacted"], 1)
		frappe.db.commit()  # a fresh snapshot: read what the server committed
		self.assertIsNone(frappe.db.get_value("Grievance", case.name, "member"))

	def test_upgraded_sites_members_point_at_the_installed_text(self):
		from unioncase.patches.v0_1 import default_consent_texts

		member = make_member()
		frappe.db.set_value("Union Member", member.name, "consent_text_version", "v1")  # the old free text
		default_consent_texts.execute()
		self.assertEqual(frappe.db.get_value("Union Member", member.name, "consent_text_version"), "v1-id")
