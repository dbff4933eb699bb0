# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.tests.deadline_data import make_policy


class TestGrievanceDeadlinePolicy(IntegrationTestCase):
	def setUp(self):
		self.prefix = f"P{frappe.generate_hash(length=6)}"
		self.category = frappe.get_doc(
			{
				"doctype": "Grievance Category",
				"category_name": f"{self.prefix} Upah Lembur",
				"parent_grievance_category": "All Grievance Categories",
			}
		).insert()

	def test_a_duplicate_rule_is_refused(self):
		make_policy(f"{self.prefix} Upah", category=self.category.name, severity="High")
		with self.assertRaisesRegex(frappe.ValidationError, "already applies"):
			make_policy(f"{self.prefix} Upah Lagi", category=self.category.name, severity="High")

	def test_an_empty_condition_clashes_whether_stored_as_null_or_empty(self):
		"""v15 stores an empty Select as '' and reads ("is", "not set") as IS NULL only."""
		first = make_policy(f"{self.prefix} Semua", category=self.category.name)
		for stored in (None, ""):
			with self.subTest(stored=stored):
				frappe.db.set_value(first.doctype, first.name, {"kind": stored, "severity": stored})
				with self.assertRaisesRegex(frappe.ValidationError, "already applies"):
					make_policy(f"{self.prefix} Semua Lagi", category=self.category.name)
				with self.assertRaisesRegex(frappe.ValidationError, "already applies"):
					make_policy(
						f"{self.prefix} Semua Kosong", category=self.category.name, kind="", severity=""
					)
