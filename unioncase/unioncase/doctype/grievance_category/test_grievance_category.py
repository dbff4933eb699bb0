# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.setup.install import CATEGORY_ROOT, make_default_records


class TestGrievanceCategory(IntegrationTestCase):
	def test_defaults_are_installed_as_a_tree(self):
		self.assertEqual(
			frappe.db.get_value("Grievance Category", "Sexual Harassment", "parent_grievance_category"),
			"Harassment and Violence",
		)
		self.assertEqual(
			frappe.db.get_value("Grievance Category", "Harassment and Violence", "parent_grievance_category"),
			CATEGORY_ROOT,
		)

	def test_federations_extend_the_tree_and_keep_their_edits(self):
		frappe.get_doc(
			{
				"doctype": "Grievance Category",
				"category_name": "Piece-rate Disputes",
				"parent_grievance_category": "Wages and Benefits",
			}
		).insert()
		frappe.db.set_value("Grievance Category", "Overtime Pay", "description", "Lembur")
		make_default_records()
		self.assertEqual(frappe.db.get_value("Grievance Category", "Overtime Pay", "description"), "Lembur")
		self.assertTrue(frappe.db.exists("Grievance Category", "Piece-rate Disputes"))

	def test_no_cycles(self):
		parent = frappe.get_doc("Grievance Category", "Wages and Benefits")
		parent.parent_grievance_category = "Overtime Pay"
		with self.assertRaisesRegex(frappe.ValidationError, "inside its own subtree"):
			parent.save()
