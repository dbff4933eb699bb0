"""The demo generator: deterministic, stable when topped up, and valid for the app's own rules."""

from datetime import datetime, timedelta

import frappe
from frappe.utils import get_datetime

from unioncase.compat import IntegrationTestCase
from unioncase.demo.generator import (
	CASE_TABLES,
	ESCALATION_FIELDS,
	GRIEVANCE_FIELDS,
	CaseFactory,
	_ensure_master_data,
	_insert_cases,
	_insert_members,
	_insert_tree,
	build_plan,
	demo_users,
	ensure_user,
)
from unioncase.hierarchy.placement import LEVELS
from unioncase.privacy.confidential import sealed_values
from unioncase.privacy.identity import IDENTITY_FIELDS, IDENTITY_ROLE
from unioncase.reports import summary
from unioncase.workflows.install import definition

SEED, WORKPLACE_UNIONS, MEMBERS = 7, 12, 60
CASES = 2000
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

	def load_world(self):
		_ensure_master_data()
		_insert_tree(self.plan)
		_insert_members(self.plan)
		for user in demo_users(self.plan):
			ensure_user(user["email"], user["first_name"], user["role"], user["union"])
			if user.get("extra_role"):
				frappe.get_doc("User", user["email"]).add_roles(user["extra_role"])

	def test_generated_cases_pass_the_apps_validation(self):
		self.load_world()
		factory = CaseFactory(self.plan, SEED, ANCHOR, self.tags)
		for n in range(0, 3000, 25):
			row, tags, extras = factory.case(n)
			values = dict(zip(GRIEVANCE_FIELDS, row, strict=True))
			for field in ("name", "creation", "modified", "modified_by", "owner", "docstatus", "idx"):
				values.pop(field)
			stage = values.pop("workflow_state")  # a new case starts Received; the workflow moves it on
			self.assertIn(stage, STAGES_OF_STATUS[values["status"]])
			# the clock of a waiting case stopped when it entered its stage, which a new case has not
			for field in ("stage_since", "clock_paused_since"):
				values.pop(field)
			# the hops the workflow recorded, and the reporter a confidential case's intake entered
			hops = [
				dict(zip(ESCALATION_FIELDS[10:], hop[10:], strict=True))
				for hop in extras.get("Grievance Escalation", [])
			]
			custodians = [{"user": row[-1]} for row in extras.get("Grievance Identity Custodian", [])]
			sealed = (
				dict(zip(IDENTITY_FIELDS["Grievance"], extras["Confidential Identity"][0][8:], strict=True))
				if values["is_confidential"]
				else {}
			)
			case = frappe.get_doc(
				{
					"doctype": "Grievance",
					**values,
					**sealed,
					"tags": [{"tag": tag} for tag in tags],
					"escalations": hops,
					"identity_custodians": custodians,
				}
			).insert()
			with self.subTest(case=n):
				if sealed:
					self.assertEqual(sealed_values(case.name), {k: v for k, v in sealed.items() if v})
					self.assertFalse(any(case.get(field) for field in IDENTITY_FIELDS["Grievance"]))
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
		paused = [row for row in rows if row["clock_paused_since"]]
		self.assertTrue(paused)
		self.assertTrue(
			all(row["workflow_state"].startswith("Waiting on") and not row["next_due_on"] for row in paused)
		)

	def test_a_small_demo_holds_every_stage_escalated_confidential_and_whatsapp_cases(self):
		self.load_world()
		factory = CaseFactory(self.plan, SEED, ANCHOR, self.tags)
		names = [factory.name_of(n) for n in range(CASES)]
		try:
			_insert_cases(factory, 0, CASES)
			self.assert_demo_kinds(names)
		finally:
			self.delete_cases(names)

	def delete_cases(self, names):
		for doctype, _fields in CASE_TABLES:
			link = "grievance" if frappe.get_meta(doctype).has_field("grievance") else "parent"
			frappe.db.delete(doctype, {link: ("in", names)})
		frappe.db.delete("Grievance Tag Link", {"parent": ("in", names)})
		frappe.db.delete("Grievance", {"name": ("in", names)})
		summary.prune(commit=False)  # the analytics table forgets cases deleted past the hooks
		frappe.db.commit()

	def assert_demo_kinds(self, names):
		cases = frappe.get_all(
			"Grievance",
			filters={"name": ("in", names)},
			fields=[
				"name",
				"status",
				"workflow_state",
				"owning_union",
				"originating_union",
				"escalated_from",
				"is_confidential",
				"is_anonymous",
				"channel",
				"clock_paused_since",
				*IDENTITY_FIELDS["Grievance"],
				"reporter_type",
				"consent_given",
			],
		)
		self.assertEqual(len(cases), CASES)
		open_stages = {
			state
			for state, statuses in ((s["state"], s["status"]) for s in definition()["states"])
			if statuses == "Open"
		}
		self.assertEqual({case.workflow_state for case in cases if case.status == "Open"}, open_stages)
		# escalated: each hop recorded as escalation.record_hop does, origin below the owner
		escalated = [case for case in cases if case.escalated_from]
		self.assertGreater(len(escalated), 20)
		hops = frappe.get_all(
			"Grievance Escalation",
			filters={"parent": ("in", [case.name for case in escalated]), "parenttype": "Grievance"},
			fields=["parent", "idx", "direction", "from_union", "to_union", "moved_by", "moved_on", "reason"],
			order_by="parent, idx",
		)
		by_case = {}
		for hop in hops:
			by_case.setdefault(hop.parent, []).append(hop)
		for case in escalated:
			chain = by_case[case.name]
			self.assertEqual(chain[0].from_union, case.originating_union)
			self.assertEqual(
				(chain[-1].from_union, chain[-1].to_union), (case.escalated_from, case.owning_union)
			)
			self.assertTrue(
				all(hop.direction == "Escalated" and hop.reason and hop.moved_by for hop in chain)
			)
			self.assertEqual(
				frappe.db.get_value("Union", case.owning_union, "name"),
				frappe.db.get_value("Union", chain[-1].from_union, "parent_union"),
			)
		self.assertTrue(any(case.workflow_state == "Escalated" for case in escalated))
		self.assertFalse(any(case.workflow_state == "Escalated" for case in cases if not case.escalated_from))
		# confidential: no reporter on the case, the sealed record holds it, custodians hold the role
		confidential = [case for case in cases if case.is_confidential]
		self.assertGreater(len(confidential), 5)
		for case in confidential:
			self.assertFalse(any(case.get(field) for field in IDENTITY_FIELDS["Grievance"]))
			self.assertTrue(sealed_values(case.name))
			custodians = frappe.get_all(
				"Grievance Identity Custodian", filters={"parent": case.name}, pluck="user"
			)
			self.assertTrue(custodians)
			for user in custodians:
				self.assertIn(IDENTITY_ROLE, frappe.get_roles(user))
		# anonymous over WhatsApp: no identity, no consent needed, a handle without an address
		whatsapp = [case for case in cases if case.is_anonymous and case.channel == "WhatsApp"]
		self.assertGreater(len(whatsapp), 10)
		for case in whatsapp:
			self.assertFalse(any(case.get(field) for field in IDENTITY_FIELDS["Grievance"]))
			handle = frappe.db.get_value(
				"Contact Handle",
				{"grievance": case.name},
				["address_kind", "tracking_code_hash", "address"],
				as_dict=True,
			)
			self.assertEqual(handle.address_kind, "Tracking Page")
			self.assertEqual(len(handle.tracking_code_hash), 64)
			self.assertFalse(handle.address)
		self.assertFalse(
			frappe.db.exists(
				"Contact Handle", {"grievance": ("in", [c.name for c in cases if not c.is_anonymous])}
			)
		)

	def test_older_history_is_the_year_before_moved_back_whole_weeks(self):
		self.load_world()
		# two arrivals a day: the copied history starts after 2 x 728 cases
		factory = CaseFactory(self.plan, SEED, ANCHOR, self.tags, per_day=2)
		first, last = factory.history_from, factory.history_from + 2 * factory.period + 10
		names = [factory.name_of(n) for n in range(last)]
		try:
			_insert_cases(factory, 0, last)
			self.assertEqual(frappe.db.count("Grievance", {"name": ("in", names)}), last)
			columns = [f for f in GRIEVANCE_FIELDS if f != "name"]
			for n in (first, first + 1, first + factory.period - 1, first + factory.period, last - 1):
				k = (n - first) // factory.period + 1
				copy, template = names[n], names[n - k * factory.period]
				with self.subTest(case=n):
					a, b = (
						frappe.db.get_value("Grievance", name, columns, as_dict=True)
						for name in (copy, template)
					)
					shift = timedelta(days=364 * k)
					self.assertEqual(a.received_on, b.received_on - shift)
					self.assertEqual(a.received_on.weekday(), b.received_on.weekday())
					self.assertEqual(a.resolution_due_on, b.resolution_due_on - shift)
					self.assertEqual(a.subject, b.subject)
					self.assertEqual(a.status, b.status)
					self.assertNotEqual(a.status, "Open")
					for doctype in ("Grievance Tag Link", "Grievance Escalation"):
						self.assertEqual(
							frappe.db.count(doctype, {"parent": copy}),
							frappe.db.count(doctype, {"parent": template}),
						)
			# the copies carry their kinds along: escalated, confidential and anonymous WhatsApp cases
			copies = names[first:]
			self.assertTrue(frappe.db.count("Grievance Escalation", {"parent": ("in", copies)}))
			self.assertTrue(frappe.db.count("Grievance", {"name": ("in", copies), "is_confidential": 1}))
			self.assertEqual(
				frappe.db.count("Confidential Identity", {"grievance": ("in", copies)}),
				frappe.db.count("Grievance", {"name": ("in", copies), "is_confidential": 1}),
			)
			self.assertEqual(
				frappe.db.count("Contact Handle", {"grievance": ("in", copies)}),
				frappe.db.count(
					"Grievance", {"name": ("in", copies), "is_anonymous": 1, "channel": "WhatsApp"}
				),
			)
		finally:
			self.delete_cases(names)
