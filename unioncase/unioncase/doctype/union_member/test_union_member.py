# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.privacy.consent import current_consent_text
from unioncase.tests.hierarchy_data import make_union


class TestUnionMember(IntegrationTestCase):
	def setUp(self):
		prefix = f"M{frappe.generate_hash(length=6)}"
		self.branch = make_union(f"{prefix} Cabang", "Branch").name
		self.workplace = make_union(f"{prefix} PUK", "Workplace Union", self.branch).name

	def new_member(self, **values):
		return frappe.get_doc({"doctype": "Union Member", "full_name": "Dewi Lestari", **values})

	def test_a_member_belongs_to_a_workplace_union(self):
		with self.assertRaisesRegex(frappe.ValidationError, "must be a workplace union"):
			self.new_member(workplace_union=self.branch).insert()
		self.assertEqual(
			self.new_member(workplace_union=self.workplace).insert().workplace_union, self.workplace
		)

	def test_member_numbers_are_unique(self):
		number = frappe.generate_hash(length=8)
		self.new_member(workplace_union=self.workplace, member_number=number).insert()
		with self.assertRaises(frappe.UniqueValidationError):
			self.new_member(workplace_union=self.workplace, member_number=number).insert()

	def test_consent_is_timestamped(self):
		member = self.new_member(
			workplace_union=self.workplace, consent_given=1, consent_text_version=current_consent_text()
		).insert()
		self.assertIsNotNone(member.consent_given_on)

	def test_phone_numbers_are_stored_as_whatsapp_ids(self):
		for typed in ("0812-3456-7890", "+62 812 3456 7890", "62 812 3456 7890"):
			member = self.new_member(workplace_union=self.workplace, phone=typed).insert()
			self.assertEqual(member.phone, "+6281234567890")
		with self.assertRaisesRegex(frappe.ValidationError, "is not a valid phone number"):
			self.new_member(workplace_union=self.workplace, phone="12345").insert()
