"""The demo generator: deterministic, stable when topped up, and valid for the app's own rules."""

from datetime import datetime

import frappe
from frappe.utils import get_datetime

from unioncase.compat import IntegrationTestCase
from unioncase.demo.generator import (
	GRIEVANCE_FIELDS,
	CaseFactory,
	_ensure_master_data,
	_insert_members,
	_insert_tree,
	build_plan,
)
from unioncase.hierarchy.placement import LEVELS
from unioncase.workflows.install import definition

SEED, WORKPLACE_UNIONS, MEMBERS = 7, 12, 60
ANCHOR = datetime(2026, 11, 1, 12, 0)
# the shipped workflow's stages, by the coarse status each sets
STAGES_OF_STATUS = {}
for _state in definition()["states"]:
	STAGES_OF_STATUS.setdefault(_state["status"], []).append(_state["state"])


class TestDemoGenerator(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.plan = build_plan(SEED, WORKPLACE_UNIONS, MEMBERS)
		cls.tags = {"Urgent", "Women Workers"}

	def test_same_seed_same_federation_and_cases(self):
		self.assertEqual(self.plan, build_plan(SEED, WORKPLACE_UNIONS, MEMBERS))
		first, second = (
			CaseFactory(self.plan, SEED, ANCHOR, self.tags),
			CaseFactory(self.plan, SEED, ANCHOR, self.tags),
		)
		self.assertEqual([first.row(n) for n in range(200)], [second.row(n) for n in range(200)])
		self.assertNotEqual(first.row(0), CaseFactory(self.plan, SEED + 1, ANCHOR, self.tags).row(0))

	def test_the_tree_follows_the_levels(self):
		unions = [
			self.plan["confederation"],
			*self.plan["federations"],
			*self.plan["branches"],
			*self.plan["workplaces"],
		]
		level_of = {union["union_name"]: union["level"] for union in unions}
		self.assertEqual(len(self.plan["workplaces"]), WORKPLACE_UNIONS)
		for union in unions:
			if union["parent_union"]:
				self.assertLess(LEVELS.index(level_of[union["parent_union"]]), LEVELS.index(union["level"]))
		self.assertTrue(
			all(level_of[m["workplace_union"]] == "Workplace Union" for m in self.plan["members"])
		)

	def test_open_backlog_does_not_grow_with_history(self):
		factory = CaseFactory(self.plan, SEED, ANCHOR, self.tags)
		status = GRIEVANCE_FIELDS.index("status")
		open_in = lambda first, last: sum(factory.row(n)[0][status] == "Open" for n in range(first, last))  # noqa: E731
		recent, old = open_in(0, 1000), open_in(20_000, 21_000)
		self.assertGreater(recent, 100)
		self.assertLess(old, 5)

	def test_generated_cases_pass_the_apps_validation(self):
		_ensure_master_data()
		_insert_tree(self.plan)
		_insert_members(self.plan)
		factory = CaseFactory(self.plan, SEED, ANCHOR, self.tags)
		for n in range(0, 3000, 25):
			row, tags = factory.row(n)
			values = dict(zip(GRIEVANCE_FIELDS, row, strict=True))
			for field in ("name", "creation", "modified", "modified_by", "owner", "docstatus", "idx"):
				values.pop(field)
			stage = values.pop("workflow_state")  # a new case starts Received; the workflow moves it on
			self.assertIn(stage, STAGES_OF_STATUS[values["status"]])
			case = frappe.get_doc(
				{"doctype": "Grievance", **values, "tags": [{"tag": tag} for tag in tags]}
			).insert()
			with self.subTest(case=n):
				self.assertEqual(case.owning_union, values["owning_union"])
				self.assertEqual(case.workplace_union, values["workplace_union"])
				for column in ("branch", "federation", "confederation", "owning_level", "originating_union"):
					self.assertEqual(case.get(column), values[column], column)
				# the demo's due dates are the ones the app computes with its default policy
				self.assertEqual(get_datetime(case.resolution_due_on), values["resolution_due_on"])

	def test_some_open_cases_are_overdue_and_no_finished_one(self):
		factory = CaseFactory(self.plan, SEED, ANCHOR, self.tags)
		rows = [dict(zip(GRIEVANCE_FIELDS, factory.row(n)[0], strict=True)) for n in range(3000)]
		overdue = [row for row in rows if row["is_overdue"]]
		self.assertTrue(overdue)
		self.assertTrue(all(row["status"] == "Open" and row["next_due_on"] <= ANCHOR for row in overdue))
		self.assertLess(len(overdue), sum(row["status"] == "Open" for row in rows))
