# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

from datetime import date, datetime, timedelta

import frappe
from frappe.utils import get_datetime, now_datetime

from unioncase.compat import IntegrationTestCase
from unioncase.tests.deadline_data import FRIDAY_10AM, HOLIDAY, make_calendar, make_policy
from unioncase.tests.hierarchy_data import make_union
from unioncase.tests.workflow_steps import act, move_to
from unioncase.workflows import overdue
from unioncase.workflows.deadlines import (
	DEFAULT_CALENDAR,
	SETTINGS,
	WorkingCalendar,
	calendar_name_for,
	match_policy,
)
from unioncase.workflows.escalation import escalate


class TestWorkingCalendar(IntegrationTestCase):
	"""Working-time arithmetic, no database."""

	def setUp(self):
		self.calendar = WorkingCalendar(weekly_offs=(5, 6), holidays=(HOLIDAY,))

	def test_working_days_skip_the_weekend_and_holidays(self):
		# Fri -> Mon (1), Wed (2: Tue is a holiday), Thu (3)
		self.assertEqual(self.calendar.add(FRIDAY_10AM, 3 * 86400), datetime(2026, 3, 12, 10, 0))
		self.assertEqual(self.calendar.add_working_days(date(2026, 3, 6), 1), date(2026, 3, 9))

	def test_working_hours_run_around_the_clock_on_working_days_only(self):
		# 14 hours left on Friday, the weekend is skipped, 10 more hours on Monday
		self.assertEqual(self.calendar.add(FRIDAY_10AM, 24 * 3600), datetime(2026, 3, 9, 10, 0))
		# 30 hours from Monday 10:00: Monday 14 h, Tuesday is a holiday, 16 h into Wednesday
		self.assertEqual(self.calendar.add(datetime(2026, 3, 9, 10), 30 * 3600), datetime(2026, 3, 11, 16))

	def test_a_case_arriving_on_a_day_off_starts_on_the_next_working_day(self):
		saturday = datetime(2026, 3, 7, 15, 30)
		self.assertEqual(self.calendar.add(saturday, 86400), datetime(2026, 3, 10, 0, 0))
		self.assertEqual(self.calendar.add(saturday, 0), datetime(2026, 3, 9, 0, 0))

	def test_working_time_between_two_moments(self):
		# Friday 10:00 to Wednesday 10:00: 14 h Friday, 24 h Monday, 10 h Wednesday
		self.assertEqual(
			self.calendar.working_seconds(FRIDAY_10AM, datetime(2026, 3, 11, 10)), (14 + 24 + 10) * 3600
		)
		self.assertEqual(self.calendar.working_seconds(datetime(2026, 3, 7), datetime(2026, 3, 8, 23)), 0)
		self.assertEqual(self.calendar.working_seconds(datetime(2026, 3, 11), FRIDAY_10AM), 0)

	def test_adding_what_was_measured_returns_the_end(self):
		end = datetime(2026, 3, 17, 9, 15)
		self.assertEqual(self.calendar.add(FRIDAY_10AM, self.calendar.working_seconds(FRIDAY_10AM, end)), end)

	def test_without_days_off_every_day_counts(self):
		self.assertEqual(WorkingCalendar().add(FRIDAY_10AM, 3 * 86400), datetime(2026, 3, 9, 10, 0))


class TestDeadlines(IntegrationTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		self.prefix = f"D{frappe.generate_hash(length=6)}"
		self.calendar = make_calendar(f"{self.prefix} Kalender", holidays=[HOLIDAY]).name
		self.federation = make_union(
			f"{self.prefix} Federasi", "Federation", holiday_calendar=self.calendar
		).name
		self.branch = make_union(f"{self.prefix} Cabang", "Branch", self.federation).name
		self.workplace = make_union(f"{self.prefix} PUK", "Workplace Union", self.branch).name
		self.parent_category = frappe.get_doc(
			{
				"doctype": "Grievance Category",
				"category_name": f"{self.prefix} Upah",
				"parent_grievance_category": "All Grievance Categories",
				"is_group": 1,
			}
		).insert()
		self.category = frappe.get_doc(
			{
				"doctype": "Grievance Category",
				"category_name": f"{self.prefix} Upah Lembur",
				"parent_grievance_category": self.parent_category.name,
			}
		).insert()

	def new_case(self, **values):
		return frappe.get_doc(
			{
				"doctype": "Grievance",
				"subject": "Upah lembur tidak dibayar",
				"owning_union": self.workplace,
				"category": self.category.name,
				"received_on": FRIDAY_10AM,
				**values,
			}
		).insert()

	def test_due_dates_on_arrival_follow_the_union_calendar(self):
		make_policy(
			f"{self.prefix} Upah", category=self.parent_category.name, response_target=3, resolution_target=5
		)
		case = self.new_case()
		self.assertEqual(get_datetime(case.response_due_on), datetime(2026, 3, 12, 10))
		# Mon, Wed, Thu, Fri, Mon
		self.assertEqual(get_datetime(case.resolution_due_on), datetime(2026, 3, 16, 10))
		self.assertEqual(get_datetime(case.next_due_on), datetime(2026, 3, 12, 10))

	def test_calendar_is_inherited_down_the_tree(self):
		self.assertEqual(calendar_name_for(self.workplace), self.calendar)
		own = make_calendar(f"{self.prefix} Enam Hari", sunday_off=1, saturday_off=0).name
		frappe.db.set_value("Union", self.branch, "holiday_calendar", own)
		self.assertEqual(calendar_name_for(self.workplace), own)
		self.assertEqual(calendar_name_for(self.federation), self.calendar)
		lone = make_union(f"{self.prefix} Federasi Lain", "Federation").name
		default = frappe.db.get_single_value(SETTINGS, "default_holiday_calendar")
		self.assertEqual(default, DEFAULT_CALENDAR)
		self.assertEqual(calendar_name_for(lone), default)
		# A six-day week: Saturday counts, Tuesday's holiday no longer applies
		make_policy(f"{self.prefix} Upah", category=self.category.name, response_target=2)
		self.assertEqual(get_datetime(self.new_case().response_due_on), datetime(2026, 3, 9, 10))

	def test_the_policys_calendar_overrides_the_unions(self):
		every_day = make_calendar(f"{self.prefix} Setiap Hari", saturday_off=0, sunday_off=0).name
		make_policy(
			f"{self.prefix} Upah", category=self.category.name, response_target=3, holiday_calendar=every_day
		)
		self.assertEqual(get_datetime(self.new_case().response_due_on), datetime(2026, 3, 9, 10))

	def test_the_most_specific_rule_wins(self):
		on_parent = make_policy(f"{self.prefix} Induk", category=self.parent_category.name)
		on_child = make_policy(f"{self.prefix} Anak", category=self.category.name)
		critical_on_parent = make_policy(
			f"{self.prefix} Induk Kritis", category=self.parent_category.name, severity="Critical"
		)
		make_policy(f"{self.prefix} Aspirasi Anak", category=self.category.name, kind="Aspiration")
		disabled = make_policy(
			f"{self.prefix} Nonaktif", category=self.category.name, severity="Critical", kind="Complaint"
		)
		disabled.db_set("enabled", 0)

		def winner(**case):
			return match_policy(frappe._dict({"kind": "Complaint", "severity": "Medium", **case}))["name"]

		self.assertEqual(winner(category=self.category.name), on_child.name)  # the deeper category
		self.assertEqual(winner(category=self.parent_category.name), on_parent.name)
		# two conditions beat one, even on a higher category
		self.assertEqual(winner(category=self.category.name, severity="Critical"), critical_on_parent.name)
		# no rule of this test applies elsewhere: the shipped default does
		self.assertEqual(winner(category=None), "Default")

	def test_waiting_on_the_worker_pauses_the_clock(self):
		make_policy(
			f"{self.prefix} Upah", category=self.category.name, response_target=3, resolution_target=20
		)
		case = self.new_case()
		first_due = get_datetime(case.resolution_due_on)
		case = move_to(case, "Waiting on Worker")
		self.assertIsNotNone(case.clock_paused_since)
		self.assertIsNone(case.next_due_on)  # the job does not look at a paused case
		# The case has been waiting three days longer than this test takes.
		paused_since = get_datetime(case.clock_paused_since)
		waited_from = paused_since - timedelta(days=3)
		case.db_set("clock_paused_since", waited_from)
		case = act(case, "Resume")
		calendar = WorkingCalendar((5, 6), (HOLIDAY,))
		self.assertIsNone(case.clock_paused_since)
		self.assertGreater(case.paused_seconds, 0)
		self.assertGreaterEqual(case.paused_seconds, calendar.working_seconds(waited_from, paused_since))
		self.assertEqual(
			get_datetime(case.resolution_due_on), calendar.add(FRIDAY_10AM, 20 * 86400 + case.paused_seconds)
		)
		self.assertGreater(get_datetime(case.resolution_due_on), first_due)

	def test_a_stage_change_records_the_response_and_applies_the_stages_rule(self):
		make_policy(
			f"{self.prefix} Upah", category=self.category.name, response_target=3, resolution_target=20
		)
		make_policy(
			f"{self.prefix} Mediasi",
			category=self.category.name,
			workflow_state="In Mediation",
			response_target=0,
			resolution_target=30,
		)
		case = self.new_case()
		self.assertIsNone(case.responded_on)
		case.severity = "High"  # not a stage change: no response yet
		case.save()
		self.assertIsNone(case.responded_on)
		case = move_to(case, "In Mediation")
		self.assertIsNotNone(case.responded_on)
		self.assertEqual(get_datetime(case.response_due_on), datetime(2026, 3, 12, 10))
		calendar = WorkingCalendar((5, 6), (HOLIDAY,))
		self.assertEqual(get_datetime(case.resolution_due_on), calendar.add(case.stage_since, 30 * 86400))
		self.assertGreater(get_datetime(case.stage_since), FRIDAY_10AM)
		# the 30 days lie ahead, so the case is no longer overdue
		self.assertEqual(case.next_due_on, case.resolution_due_on)
		self.assertFalse(case.is_overdue)

	def test_an_escalation_by_the_overdue_job_is_not_a_response(self):
		case = self.new_case()
		frappe.flags.escalated_as_overdue = True
		try:
			escalate(case.name, "No response by the deadline")
		finally:
			frappe.flags.escalated_as_overdue = False
		case.reload()
		self.assertEqual(case.owning_union, self.branch)
		self.assertIsNone(case.responded_on)

	def test_a_finished_case_has_no_running_deadline(self):
		case = self.new_case()
		case.update({"status": "Rejected"}).save()
		self.assertIsNone(case.next_due_on)
		self.assertIsNotNone(case.responded_on)

	def test_open_cases_from_before_deadlines_get_them_on_migrate(self):
		from unioncase.workflows.deadlines import DEADLINE_FIELDS, fill_open_case_deadlines

		make_policy(f"{self.prefix} Upah", category=self.category.name, response_target=3)
		case = self.new_case()
		modified = case.modified
		dates = [field for field in DEADLINE_FIELDS if field.endswith(("_on", "_since"))]
		frappe.db.set_value("Grievance", case.name, dict.fromkeys(dates), update_modified=False)
		fill_open_case_deadlines()
		case.reload()
		self.assertEqual(get_datetime(case.response_due_on), datetime(2026, 3, 12, 10))
		self.assertEqual(get_datetime(case.next_due_on), datetime(2026, 3, 12, 10))
		self.assertEqual(get_datetime(case.modified), get_datetime(modified))
		# already late on upgrade: shown as overdue, and the overdue job will not alert about it
		self.assertTrue(case.is_overdue)
		self.assertNotIn(case.name, overdue.due_cases(now_datetime(), 10_000))
