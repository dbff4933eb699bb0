# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

"""The overdue job on real data. It commits per batch, so this class commits its own records and
deletes them afterwards."""

from datetime import timedelta
from unittest.mock import patch

import frappe
from frappe.utils import add_days, get_datetime, now_datetime

from unioncase.compat import IntegrationTestCase
from unioncase.tests.hierarchy_data import make_official, make_union
from unioncase.tests.workflow_steps import move_to
from unioncase.workflows import overdue


class TestOverdueJob(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		# notices older than this are about an earlier case of the same name (a test's rolled-back case)
		cls.started = now_datetime()
		prefix = f"O{frappe.generate_hash(length=6)}"
		cls.branch = make_union(f"{prefix} Cabang", "Branch").name
		cls.workplace = make_union(f"{prefix} PUK Satu", "Workplace Union", cls.branch).name
		cls.sibling = make_union(f"{prefix} PUK Dua", "Workplace Union", cls.branch).name
		# the officials are kept between runs (creating a user queues jobs); their attachments are not
		domain = "overdue.test.unioncase.org"
		cls.workplace_official = make_official(f"puk1@{domain}", "Workplace Union Official", cls.workplace)
		cls.sibling_official = make_official(f"puk2@{domain}", "Workplace Union Official", cls.sibling)
		cls.branch_official = make_official(f"branch@{domain}", "Branch Official", cls.branch)
		cls.users = [cls.workplace_official, cls.sibling_official, cls.branch_official]
		long_ago = add_days(now_datetime(), -60)
		cls.late = cls.make_case(received_on=long_ago)
		cls.late_too = cls.make_case(received_on=add_days(long_ago, 1))
		cls.fresh = cls.make_case(received_on=now_datetime())
		cls.paused = cls.make_case("Waiting on Worker", received_on=long_ago)
		cls.resolved = cls.make_case("Resolved", received_on=long_ago)
		cls.sibling_case = cls.make_case(received_on=now_datetime(), owning_union=cls.sibling)
		# the shipped Critical Severity rule escalates
		cls.critical = cls.make_case(received_on=long_ago, severity="Critical")
		cls.setup_cases = (
			cls.late,
			cls.late_too,
			cls.fresh,
			cls.paused,
			cls.resolved,
			cls.sibling_case,
			cls.critical,
		)
		cls.cases = list(cls.setup_cases)
		# An outgoing account another test class left in place serves as it is: a second default would
		# make Frappe re-save (and re-validate against its server) the first one.
		cls.outbox = None
		if not frappe.db.exists("Email Account", {"default_outgoing": 1}):
			cls.outbox = frappe.get_doc(
				{
					"doctype": "Email Account",
					"email_account_name": f"{prefix} Outbox",
					"email_id": f"noreply.{prefix.lower()}@{domain}",
					"enable_outgoing": 1,
					"default_outgoing": 1,
					"smtp_server": "localhost",
					"no_smtp_authentication": 1,
				}
			)
			cls.outbox.flags.ignore_validate = True  # mail is only queued here: no SMTP server to check
			cls.outbox.insert()
		frappe.db.commit()
		cls.flagged = overdue.flag_overdue_cases(batch_size=1)
		# what that first run sent: later tests run the job again (unittest orders them by name)
		cls.first_run = {case: cls.notices(case) for case in cls.setup_cases}

	@classmethod
	def make_case(cls, stage: str | None = None, **values):
		"""A case its union's official records: the Assignment Rule gives it to them, which Frappe does
		not announce (no "assigned a new task" to oneself), so every notice of a case is the job's."""
		values.setdefault("owning_union", cls.workplace)
		recorder = cls.workplace_official if values["owning_union"] == cls.workplace else cls.sibling_official
		frappe.set_user(recorder)
		try:
			case = frappe.get_doc(
				{"doctype": "Grievance", "subject": "Upah lembur tidak dibayar", **values}
			).insert()
		finally:
			frappe.set_user("Administrator")
		return (move_to(case, stage) if stage else case).name

	@classmethod
	def tearDownClass(cls):
		# Plain deletes: delete_doc would queue a link-cleaning job per record for a worker tests lack.
		queues = frappe.get_all("Email Queue", filters={"reference_name": ["in", cls.cases]}, pluck="name")
		frappe.db.delete("Email Queue Recipient", {"parent": ["in", queues or [""]]})
		for doctype, field in (
			("Notification Log", "document_name"),
			("Email Queue", "reference_name"),
			("Error Log", "reference_name"),
			("Version", "docname"),
			("Grievance", "name"),
		):
			frappe.db.delete(doctype, {field: ["in", cls.cases]})
		frappe.db.delete("User Permission", {"user": ["in", cls.users]})
		if cls.outbox:
			frappe.db.delete("Email Account", {"name": cls.outbox.name})
		frappe.db.delete("Union", {"name": ["in", [cls.workplace, cls.sibling, cls.branch]]})
		frappe.db.commit()
		super().tearDownClass()

	def overdue_flags(self):
		return {name: frappe.db.get_value("Grievance", name, "is_overdue") for name in self.setup_cases}

	def alerted(self, case: str) -> list[str]:
		"""Who got the case's alerts (overdue, hop): one entry a Notification Log."""
		return sorted(
			frappe.get_all(
				"Notification Log",
				filters={"document_name": case, "type": "Alert", "creation": [">=", self.started]},
				pluck="for_user",
			)
		)

	@classmethod
	def notices(cls, case: str) -> dict[str, list[str]]:
		"""Every Notification Log of the case, Frappe's own included: each user's, by type."""
		rows = frappe.get_all(
			"Notification Log",
			filters={"document_name": case, "creation": [">=", cls.started]},
			fields=["for_user", "type"],
			order_by="type",
		)
		notices = {}
		for row in rows:
			notices.setdefault(row.for_user, []).append(row.type)
		return notices

	def emailed(self, case: str) -> list[str]:
		queues = frappe.get_all(
			"Email Queue", filters={"reference_name": case, "creation": [">=", self.started]}, pluck="name"
		)
		return sorted(
			frappe.get_all(
				"Email Queue Recipient", filters={"parent": ["in", queues or [""]]}, pluck="recipient"
			)
		)

	def test_flags_exactly_the_open_running_cases_past_their_deadline(self):
		self.assertGreaterEqual(self.flagged, 2)
		flags = self.overdue_flags()
		self.assertEqual(
			{name for name, flag in flags.items() if flag}, {self.late, self.late_too, self.critical}
		)
		late = frappe.get_doc("Grievance", self.late)
		# nobody responded: the response deadline (3 working days) is the one missed
		self.assertEqual(get_datetime(late.overdue_since), get_datetime(late.response_due_on))

	def test_alerts_only_the_owning_unions_officials(self):
		self.assertEqual(self.notices(self.late), {self.workplace_official: ["Alert"]})  # once
		self.assertEqual(self.notices(self.fresh), {})
		self.assertEqual(self.alerted(self.late), [self.workplace_official])
		self.assertEqual(self.emailed(self.late), [self.workplace_official])
		self.assertEqual(self.alerted(self.fresh), [])
		self.assertIn(
			self.late,
			frappe.get_all(
				"Notification Log", filters={"for_user": self.workplace_official}, pluck="document_name"
			),
		)
		not_escalated = [case for case in self.cases if case != self.critical]
		for user in (self.sibling_official, self.branch_official):
			self.assertFalse(
				frappe.get_all(
					"Notification Log", filters={"for_user": user, "document_name": ["in", not_escalated]}
				)
			)

	def test_an_escalating_rule_hands_the_case_to_the_parent_union(self):
		critical = frappe.get_doc("Grievance", self.critical)
		self.assertEqual(critical.owning_union, self.branch)
		self.assertEqual(critical.workflow_state, "Escalated")
		self.assertEqual(critical.escalations[-1].reason, "No response by the deadline")
		self.assertIsNone(critical.responded_on)  # going up the tree does not answer the worker
		# the workplace union is told it is overdue, the branch that it has the case now: once each
		self.assertEqual(
			self.first_run[self.critical],
			{self.workplace_official: ["Alert"], self.branch_official: ["Alert"]},
		)
		self.assertNotIn(self.sibling_official, self.alerted(self.critical))
		self.assertFalse(frappe.get_all("Error Log", filters={"reference_name": self.critical}))

	def test_a_second_run_changes_nothing(self):
		before = self.overdue_flags(), self.alerted(self.late), self.emailed(self.late)
		overdue.flag_overdue_cases()
		self.assertEqual((self.overdue_flags(), self.alerted(self.late), self.emailed(self.late)), before)

	def test_a_case_that_fails_is_flagged_and_its_error_logged(self):
		case = self.make_case(received_on=add_days(now_datetime(), -40))
		self.cases.append(case)
		frappe.db.commit()
		with patch.object(overdue, "alert_officials", side_effect=RuntimeError("mail server on fire")):
			overdue.flag_overdue_cases()
		self.assertEqual(frappe.db.get_value("Grievance", case, "is_overdue"), 1)
		errors = frappe.get_all("Error Log", filters={"reference_name": case}, pluck="error")
		self.assertEqual(len(errors), 1)
		self.assertIn("mail server on fire", errors[0])

	def test_a_case_whose_new_deadline_lies_ahead_is_no_longer_overdue(self):
		case = self.make_case(received_on=add_days(now_datetime(), -50))
		self.cases.append(case)
		frappe.db.commit()
		overdue.flag_overdue_cases()
		doc = frappe.get_doc("Grievance", case)
		self.assertTrue(doc.is_overdue)
		doc = move_to(doc, "Waiting on Worker")
		self.assertFalse(doc.is_overdue)
		frappe.db.commit()
		self.assertNotIn(case, overdue.due_cases(now_datetime() + timedelta(days=365), 10_000))

	def test_the_selection_is_served_by_its_index(self):
		indexes = {row.Key_name for row in frappe.db.sql("SHOW INDEX FROM `tabGrievance`", as_dict=True)}
		self.assertIn(overdue.INDEX, indexes)
		plan = frappe.db.sql(
			"EXPLAIN " + overdue.DUE_CASES_SQL, {"now": now_datetime(), "limit": 500}, as_dict=True
		)
		self.assertEqual(plan[0].key, overdue.INDEX)
		self.assertNotIn("filesort", plan[0].Extra or "")
