# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.tests.hierarchy_data import make_official, make_union


class TestUnion(IntegrationTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		self.prefix = f"U{frappe.generate_hash(length=6)}"
		self.federation = make_union(f"{self.prefix} Federasi", "Federation").name
		self.branch_a = make_union(f"{self.prefix} Cabang A", "Branch", self.federation).name
		self.branch_b = make_union(f"{self.prefix} Cabang B", "Branch", self.federation).name
		self.workplace = make_union(f"{self.prefix} PUK A1", "Workplace Union", self.branch_a).name

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_levels_go_down_the_tree(self):
		with self.assertRaisesRegex(frappe.ValidationError, "cannot be placed under"):
			make_union(f"{self.prefix} Cabang X", "Branch", self.workplace)
		with self.assertRaisesRegex(frappe.ValidationError, "cannot be placed under"):
			make_union(f"{self.prefix} Federasi X", "Federation", self.branch_a)
		self.assertEqual(frappe.db.get_value("Union", self.workplace, "is_group"), 0)
		self.assertEqual(frappe.db.get_value("Union", self.branch_a, "is_group"), 1)

	def test_a_union_with_children_keeps_its_level(self):
		branch = frappe.get_doc("Union", self.branch_a)
		branch.level = "Workplace Union"
		with self.assertRaises(frappe.ValidationError):
			branch.save()

	def test_no_cycles(self):
		federation = frappe.get_doc("Union", self.federation)
		federation.parent_union = self.branch_a
		with self.assertRaisesRegex(frappe.ValidationError, "inside its own subtree"):
			federation.save()

	def test_new_union_is_visible_to_the_branch_official_at_once(self):
		official = make_official(
			f"{self.prefix.lower()}.a@test.unioncase.org", "Branch Official", self.branch_a
		)
		frappe.set_user(official)
		before = set(frappe.get_list("Union", pluck="name"))
		frappe.set_user("Administrator")
		added = make_union(f"{self.prefix} PUK A2", "Workplace Union", self.branch_a).name
		frappe.set_user(official)
		self.assertEqual(set(frappe.get_list("Union", pluck="name")), before | {added})

	def test_moving_a_subtree_moves_its_cases_to_the_new_branch_officials(self):
		official_a = make_official(
			f"{self.prefix.lower()}.a@test.unioncase.org", "Branch Official", self.branch_a
		)
		official_b = make_official(
			f"{self.prefix.lower()}.b@test.unioncase.org", "Branch Official", self.branch_b
		)
		case = frappe.get_doc(
			{"doctype": "Grievance", "subject": "Moved case", "owning_union": self.workplace}
		).insert()

		def visible_to(user):
			frappe.set_user(user)
			return frappe.has_permission("Grievance", doc=case.name) and case.name in frappe.get_list(
				"Grievance", pluck="name"
			)

		self.assertTrue(visible_to(official_a))
		self.assertFalse(visible_to(official_b))

		frappe.set_user("Administrator")
		workplace = frappe.get_doc("Union", self.workplace)
		workplace.parent_union = self.branch_b
		workplace.save()

		self.assertFalse(visible_to(official_a))
		self.assertTrue(visible_to(official_b))

	def test_officials_rearrange_unions_only_inside_their_subtree(self):
		official = make_official(
			f"{self.prefix.lower()}.fed@test.unioncase.org", "Federation Official", self.federation
		)
		other_federation = make_union(f"{self.prefix} Federasi Lain", "Federation").name
		frappe.set_user(official)
		workplace = frappe.get_doc("Union", self.workplace)
		workplace.parent_union = self.branch_b
		workplace.save()
		branch = frappe.get_doc("Union", self.branch_a)
		branch.parent_union = other_federation
		with self.assertRaisesRegex(frappe.PermissionError, "outside it"):
			branch.save()
		frappe.set_user("Administrator")
		self.assertEqual(frappe.db.get_value("Union", self.branch_a, "parent_union"), self.federation)
		self.assertEqual(frappe.db.get_value("Union", self.workplace, "parent_union"), self.branch_b)

	def test_a_union_with_cases_cannot_be_deleted(self):
		frappe.get_doc(
			{"doctype": "Grievance", "subject": "Keeps union", "owning_union": self.workplace}
		).insert()
		with self.assertRaises(frappe.LinkExistsError):
			frappe.delete_doc("Union", self.workplace)
