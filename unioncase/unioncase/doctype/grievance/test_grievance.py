# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.privacy.consent import current_consent_text, record_consent
from unioncase.tests.harness import changes_tracked
from unioncase.tests.hierarchy_data import make_union


class TestGrievance(IntegrationTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		prefix = f"G{frappe.generate_hash(length=6)}"
		self.employer = (
			frappe.get_doc({"doctype": "Employer", "employer_name": f"PT {prefix} Garmen"}).insert().name
		)
		self.branch = make_union(f"{prefix} Cabang", "Branch").name
		self.other_branch = make_union(f"{prefix} Cabang Lain", "Branch").name
		self.workplace = make_union(
			f"{prefix} PUK", "Workplace Union", self.branch, employer=self.employer
		).name
		self.other_workplace = make_union(f"{prefix} PUK Lain", "Workplace Union", self.other_branch).name
		self.member = frappe.get_doc(
			{
				"doctype": "Union Member",
				"full_name": "Siti Rahayu",
				"workplace_union": self.workplace,
				"phone": "+6281234567890",
			}
		).insert()

	def new_case(self, **values):
		return frappe.get_doc({"doctype": "Grievance", "subject": "Upah lembur tidak dibayar", **values})

	def test_a_case_needs_an_owning_union(self):
		with self.assertRaisesRegex(frappe.ValidationError, "owning union"):
			self.new_case().insert()

	def test_workplace_must_be_inside_the_owning_union(self):
		with self.assertRaisesRegex(frappe.ValidationError, "is not part of"):
			self.new_case(owning_union=self.branch, workplace_union=self.other_workplace).insert()

	def test_workplace_must_be_a_workplace_union(self):
		with self.assertRaisesRegex(frappe.ValidationError, "must be a workplace union"):
			self.new_case(owning_union=self.branch, workplace_union=self.branch).insert()

	def test_member_must_belong_to_the_workplace(self):
		with self.assertRaisesRegex(frappe.ValidationError, "belongs to"):
			self.new_case(
				owning_union=self.other_branch, workplace_union=self.other_workplace, member=self.member.name
			).insert()

	def test_workplace_and_employer_follow_from_member_and_union(self):
		case = self.new_case(owning_union=self.branch, member=self.member.name)
		case = record_consent(case, current_consent_text()).insert()
		self.assertEqual(case.workplace_union, self.workplace)
		self.assertEqual(case.employer, self.employer)
		case_at_workplace = self.new_case(owning_union=self.workplace).insert()
		self.assertEqual(case_at_workplace.workplace_union, self.workplace)

	def test_a_case_carries_the_unions_above_its_owner(self):
		federation = make_union(f"{self.branch} Federasi", "Federation").name
		branch = frappe.get_doc("Union", self.branch)
		branch.parent_union = federation
		branch.save()
		at_workplace = self.new_case(owning_union=self.workplace).insert()
		self.assertEqual((at_workplace.branch, at_workplace.federation), (self.branch, federation))
		escalated = self.new_case(owning_union=federation).insert()
		self.assertEqual(
			(escalated.branch, escalated.federation, escalated.confederation), (None, federation, None)
		)
		escalated.owning_union = self.workplace
		escalated.save()
		self.assertEqual(escalated.branch, self.branch)

	def test_anonymous_case_keeps_no_identity(self):
		case = self.new_case(
			owning_union=self.workplace,
			is_anonymous=1,
			member=self.member.name,
			reporter_name="Budi",
			reporter_phone="+628111",
		).insert()
		self.assertEqual((case.member, case.reporter_name, case.reporter_phone), (None, None, None))
		self.assertEqual(frappe.db.get_value("Grievance", case.name, "reporter_phone"), None)

	def test_resolution_date_is_set_when_resolved(self):
		case = self.new_case(owning_union=self.workplace).insert()
		self.assertIsNone(case.resolved_on)
		case.status = "Resolved"
		case.save()
		self.assertEqual(str(case.resolved_on), frappe.utils.today())

	def test_changes_are_tracked(self):
		case = self.new_case(owning_union=self.workplace).insert()
		case.severity = "Critical"
		with changes_tracked():
			case.save()
		changes = [
			row
			for data in frappe.get_all(
				"Version", filters={"ref_doctype": "Grievance", "docname": case.name}, pluck="data"
			)
			for row in frappe.parse_json(data).get("changed", [])
		]
		self.assertIn(["severity", "Medium", "Critical"], changes)

	def test_scoped_open_cases_are_served_by_the_composite_index(self):
		indexes = {row.Key_name for row in frappe.db.sql("SHOW INDEX FROM `tabGrievance`", as_dict=True)}
		self.assertIn("owning_union_status_modified", indexes)
		plan = frappe.db.sql(
			"EXPLAIN SELECT name FROM `tabGrievance` FORCE INDEX (owning_union_status_modified) "
			"WHERE owning_union IN (%s, %s) AND status = 'Open' ORDER BY modified DESC LIMIT 20",
			(self.workplace, self.branch),
			as_dict=True,
		)
		self.assertEqual(plan[0].key, "owning_union_status_modified")


class TestCaseIndexes(IntegrationTestCase):
	"""The indexes the Desk's case views are served from (benchmarks/README.md shows their plans)."""

	def indexes(self) -> dict[str, tuple[str, ...]]:
		found = {}
		for row in frappe.db.sql("show index from `tabGrievance`", as_dict=True):
			found.setdefault(row.Key_name, []).append((row.Seq_in_index, row.Column_name))
		return {name: tuple(column for _seq, column in sorted(columns)) for name, columns in found.items()}

	def test_each_scope_reads_a_kanban_column_and_its_stage_counts_from_one_index(self):
		indexes = set(self.indexes().values())
		for column in ("originating_union", "branch", "federation", "confederation"):
			with self.subTest(scope=column):
				# the open list and its count
				self.assertTrue(any(index[:3] == (column, "status", "modified") for index in indexes))
				if column != "originating_union":
					# scope = X and status = 'Open' and workflow_state = Y order by modified desc limit 20
					self.assertIn((column, "status", "workflow_state", "modified"), indexes)

	def test_a_workplace_unions_all_cases_view_is_read_in_modified_order(self):
		self.assertIn(("originating_union", "modified"), set(self.indexes().values()))

	def test_status_leads_only_indexes_in_a_list_order(self):
		# (status, is_overdue, ...) made MariaDB sort every open case of the tree for one scope's page
		# (benchmarks/README.md); (status, modified) and (status, creation) serve the list's own orders
		led_by_status = sorted(columns for columns in self.indexes().values() if columns[0] == "status")
		self.assertEqual(led_by_status, [("status", "creation"), ("status", "modified")])

	def test_no_index_is_declared_twice_under_another_name(self):
		from unioncase.unioncase.doctype.grievance.grievance import CASE_INDEXES

		self.assertEqual(len(set(CASE_INDEXES.values())), len(CASE_INDEXES))
		indexes = self.indexes()
		for name, columns in CASE_INDEXES.items():
			self.assertEqual(indexes.get(name), columns, name)
