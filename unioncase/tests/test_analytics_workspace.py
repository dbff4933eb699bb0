"""The officials' workspace: its number cards and report charts are scoped like the case list."""

from datetime import datetime, timedelta

import frappe
from frappe.desk.doctype.number_card.number_card import get_result
from frappe.utils import add_days, get_first_day, now_datetime, nowdate

from unioncase.compat import IntegrationTestCase
from unioncase.reports.cards import unanswered_inbound_messages
from unioncase.tests.analytics_data import AnalyticsTestCase, ensure_analytics_data, register_cleanup
from unioncase.tests.hierarchy_data import ensure_hierarchy

BRANCH_SATU = "a.branch.satu@test.unioncase.org"
BRANCH_DUA = "a.branch.dua@test.unioncase.org"
FEDERATION = "a.federation@test.unioncase.org"
OURS = [["Grievance", "subject", "like", "A analytics case %"]]


class TestAnalyticsWorkspace(AnalyticsTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		now = now_datetime()
		# c1 was received this week, c2 resolved this month (both in Cabang Satu); c5 in Cabang Dua
		frappe.db.set_value("Grievance", cls.cases["c1"], "received_on", now - timedelta(minutes=5))
		frappe.db.set_value("Grievance", cls.cases["c2"], "resolved_on", nowdate())
		frappe.db.set_value(
			"Grievance", cls.cases["c6"], "resolved_on", get_first_day(add_days(nowdate(), -40))
		)

	def tearDown(self):
		frappe.set_user("Administrator")

	def card(self, name, user):
		frappe.set_user(user)
		doc = frappe.get_doc("Number Card", name).as_dict()
		# the Desk sends the card's own filters with the dashboard's (get_all_filters)
		return get_result(frappe.as_json(doc), frappe.as_json(frappe.parse_json(doc.filters_json) + OURS))

	def test_the_new_cards_are_installed_on_the_workspace(self):
		workspace = frappe.get_doc("Workspace", "UnionCase")
		cards = {row.number_card_name for row in workspace.number_cards}
		self.assertLessEqual(
			{
				"Open Cases",
				"Overdue Cases",
				"New Cases This Week",
				"Cases Resolved This Month",
				"Unanswered Inbound Messages",
			},
			cards,
		)
		charts = {row.chart_name for row in workspace.charts}
		self.assertEqual(
			charts, {"Case Volume Trend", "Open Cases by Age", "Outcomes by Category", "Cases by Employer"}
		)
		for chart in charts:
			doc = frappe.get_doc("Dashboard Chart", chart)
			self.assertEqual((doc.chart_type, doc.use_report_chart), ("Report", 1))
			self.assertTrue(frappe.db.exists("Report", doc.report_name))

	def test_cards_count_only_the_viewers_subtree(self):
		expected = {
			# (open, overdue, new this week, resolved this month) by hand from analytics_data
			BRANCH_SATU: (1, 1, 1, 1),  # c3 open and overdue; c1 new; c2 resolved now
			BRANCH_DUA: (1, 0, 0, 0),  # c5 open; c6 resolved 40+ days ago
			FEDERATION: (2, 1, 1, 1),
		}
		for user, (open_cases, overdue, new, resolved) in expected.items():
			with self.subTest(user=user):
				self.assertEqual(self.card("Open Cases", user), open_cases)
				self.assertEqual(self.card("Overdue Cases", user), overdue)
				self.assertEqual(self.card("New Cases This Week", user), new)
				self.assertEqual(self.card("Cases Resolved This Month", user), resolved)

	def test_unanswered_inbound_messages(self):
		moment = datetime(2026, 8, 5, 9)
		for key, direction, minutes in (
			("c3", "From Worker", 0),  # unanswered: counts
			("c5", "From Worker", 0),
			("c5", "To Worker", 30),  # answered after it
			("c1", "From Worker", 0),  # the case is resolved: not waiting
			("c3", "From Worker", 60),  # a second unanswered message on c3
		):
			frappe.get_doc(
				{
					"doctype": "Case Message",
					"grievance": self.cases[key],
					"direction": direction,
					"channel": "Web",
					"sent_on": moment + timedelta(minutes=minutes),
					"content": "pesan",
				}
			).db_insert()
		frappe.set_user("Administrator")
		before = unanswered_inbound_messages()["value"]
		for user, expected in (
			(BRANCH_SATU, 2),
			(BRANCH_DUA, 0),
			(FEDERATION, 2),
			("a.puk.dua@test.unioncase.org", 2),
		):
			frappe.set_user(user)
			with self.subTest(user=user):
				self.assertEqual(unanswered_inbound_messages(), {"value": expected, "fieldtype": "Int"})
		frappe.set_user("t.researcher.sawit@test.unioncase.org")
		self.assertEqual(unanswered_inbound_messages()["value"], 0)
		self.assertGreaterEqual(before, 2)
