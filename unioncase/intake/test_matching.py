"""A web report's sender matched to a Union Member by normalised phone or email: the case goes to the
member's workplace union when the form names none; the member becomes the reporter only when the
worker reported with their name and consent, never for an anonymous report."""

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.intake import inbox, matching
from unioncase.tests.hierarchy_data import ensure_hierarchy, member_name
from unioncase.tests.intake_data import receive_report

BOGOR = "T PUK Bogor Satu"
RIAU = "T PUK Riau Satu"


class TestMemberMatching(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		cls.member = frappe.db.get_value(
			"Union Member", {"full_name": member_name(BOGOR)}, ["name", "phone"], as_dict=True
		)

	def tearDown(self):
		frappe.db.set_single_value("Intake Settings", "default_union", None)
		frappe.db.commit()

	def case_of(self, union, **payload) -> frappe._dict:
		name, _created = receive_report(frappe.generate_hash(), union, **payload)
		self.assertEqual(
			inbox.process_message(name), "Processed", frappe.db.get_value(inbox.INBOUND, name, "error")
		)
		case = frappe.db.get_value(inbox.INBOUND, name, "grievance")
		return frappe.db.get_value(
			"Grievance",
			case,
			["name", "owning_union", "member", "reporter_type", "consent_given"],
			as_dict=True,
		)

	def test_the_phone_however_typed_matches_one_member(self):
		self.assertEqual(matching.match_member(phone=self.member.phone).name, self.member.name)
		local = "0" + self.member.phone[3:]  # +62812... typed as 0812...
		self.assertEqual(matching.match_member(phone=local).name, self.member.name)
		self.assertIsNone(matching.match_member(phone="0812-0000-0001"))
		self.assertIsNone(matching.match_member(phone="not a number"))

	def test_a_named_consented_report_from_a_members_phone_is_the_members_case_in_their_union(self):
		frappe.db.set_single_value("Intake Settings", "default_union", RIAU)
		case = self.case_of(
			None, anonymous=False, name="Sari", contact=self.member.phone, contact_kind="Phone"
		)
		self.assertEqual(case.owning_union, BOGOR, "the member's workplace union, not the default")
		self.assertEqual(
			(case.member, case.reporter_type, case.consent_given), (self.member.name, "Member", 1)
		)

	def test_an_anonymous_report_is_routed_but_never_linked_to_the_member(self):
		case = self.case_of(None, anonymous=True, contact=self.member.phone, contact_kind="Phone")
		self.assertEqual(case.owning_union, BOGOR)
		self.assertFalse(case.member, "an anonymous worker stays anonymous")

	def test_the_form_links_union_comes_first_and_no_match_goes_to_the_default(self):
		case = self.case_of(
			RIAU, anonymous=False, name="Sari", contact=self.member.phone, contact_kind="Phone"
		)
		self.assertEqual(case.owning_union, RIAU)
		self.assertFalse(case.member, "a member of Bogor is no reporter of a Riau case")
		frappe.db.set_single_value("Intake Settings", "default_union", RIAU)
		other = self.case_of(None, contact="0812-7777-0101", contact_kind="Phone")
		self.assertEqual((other.owning_union, other.member), (RIAU, None))
