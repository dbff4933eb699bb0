"""The analytics reports: figures against hand-computed expectations, scope equal to the case list.

The dataset is unioncase/tests/analytics_data.py; every expected number below was worked out by hand
from its table (working time: Saturday and Sunday off, no holidays).
"""

from datetime import timedelta

import frappe
from frappe.utils import now_datetime

from unioncase.compat import IntegrationTestCase
from unioncase.reports import (
	case_volume,
	employers_and_brands,
	open_case_ageing,
	outcomes_and_remedies,
	resolution_performance,
	who_is_affected,
)
from unioncase.reports.queries import CaseQuery, dimension_sql, map_to_shown
from unioncase.tests.analytics_data import (
	OFFICIALS,
	AnalyticsTestCase,
	ensure_analytics_data,
	register_cleanup,
)
from unioncase.tests.hierarchy_data import USERS, ensure_hierarchy

WINDOW = {"from_date": "2026-06-01", "to_date": "2026-08-31", "union": "A Konfederasi"}
ALL_TIME = {"from_date": "2000-01-01", "to_date": "2099-12-31"}


def by(rows, key):
	return {row[key]: row for row in rows if isinstance(row, dict)}


class TestAnalyticsReports(AnalyticsTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_case_volume_by_category_and_month(self):
		columns, rows, _message, chart, summary = case_volume.execute({**WINDOW, "period": "Month"})[:5]
		rows = by(rows, "category")
		self.assertEqual(set(rows), {"A Upah", "A K3"})  # subcategories count for their parent
		self.assertEqual(
			(rows["A Upah"]["p_2026_06"], rows["A Upah"]["p_2026_07"], rows["A Upah"]["p_2026_08"]), (2, 1, 1)
		)
		self.assertEqual(
			(rows["A K3"]["p_2026_06"], rows["A K3"]["p_2026_07"], rows["A K3"]["p_2026_08"]), (0, 1, 1)
		)
		self.assertEqual((rows["A Upah"]["total"], rows["A K3"]["total"]), (4, 2))
		self.assertEqual(rows["A Upah"]["previous"], 0)
		self.assertIsNone(rows["A Upah"]["change"])
		self.assertEqual(chart["data"]["labels"], ["2026-06", "2026-07", "2026-08"])
		self.assertEqual(chart["data"]["datasets"][0]["values"], [2, 2, 2])
		self.assertEqual(summary[0]["value"], 6)
		self.assertIn("2026-07", [column["label"] for column in columns])

	def test_case_volume_inside_a_parent_category_and_by_quarter(self):
		rows = by(case_volume.execute({**WINDOW, "category": "A Upah", "period": "Quarter"})[1], "category")
		self.assertEqual(
			{name: row["total"] for name, row in rows.items()},
			{"A Lembur": 2, "A Upah Minimum": 1, "A Upah": 1},
		)
		self.assertEqual((rows["A Lembur"]["p_2026_q2"], rows["A Lembur"]["p_2026_q3"]), (1, 1))

	def test_case_volume_trend_against_the_previous_window(self):
		rows = by(
			case_volume.execute(
				{
					"from_date": "2026-07-01",
					"to_date": "2026-08-31",
					"union": "A Konfederasi",
					"group_by": "kind",
				}
			)[1],
			"kind",
		)
		# July-August: c3, c4, c5, c6; the 62 days before (30 April - 30 June): c1, c2
		self.assertEqual((rows["Complaint"]["total"], rows["Complaint"]["previous"]), (4, 2))
		self.assertEqual(rows["Complaint"]["change"], 100.0)

	def test_resolution_performance_in_working_time(self):
		_columns, rows, _message, _chart, summary = resolution_performance.execute(
			{**WINDOW, "group_by": "level"}
		)
		row = by(rows, "level")["Workplace Union"]
		# response hours: c1 6, c2 24 (Friday 12:00 to Monday 12:00, weekend off), c6 2
		self.assertEqual((row["cases"], row["responded"]), (6, 3))
		self.assertEqual(row["response_median"], 6.0)
		self.assertEqual(row["response_p90"], 20.4)  # 6 + 0.8 * (24 - 6)
		# resolution working days: c1 87 h = 3.625, c2 228 h = 9.5, c6 280 h = 11.667
		self.assertEqual(row["resolved"], 3)
		self.assertEqual(row["resolution_median"], 9.5)
		self.assertEqual(row["resolution_p90"], 11.2)  # 9.5 + 0.8 * (11.667 - 9.5) = 11.233
		self.assertEqual(row["within_target"], 66.7)  # c2 was resolved after its deadline
		self.assertEqual(row["escalation_rate"], 16.7)  # c5 of six
		self.assertEqual(summary[1]["value"], 9.5)

	def test_open_case_ageing_bands_overdue_and_paused(self):
		now = now_datetime()
		frappe.db.set_value("Grievance", self.cases["c3"], "received_on", now - timedelta(days=3))
		frappe.db.set_value(
			"Grievance",
			self.cases["c5"],
			{
				"received_on": now - timedelta(days=45),
				"paused_seconds": 86400,
				"clock_paused_since": now - timedelta(days=2),
			},
		)
		try:
			rows = open_case_ageing.execute({"union": "A Konfederasi"})[1]
			self.assertEqual(len(rows), 2)
			received = by(rows, "stage")["Received"]
			self.assertEqual(
				(received["union"], received["age_0_7"], received["cases"], received["overdue"]),
				("A PUK Dua", 1, 1, 1),
			)
			waiting = by(rows, "stage")["Waiting on Worker"]
			self.assertEqual((waiting["age_31_90"], waiting["age_0_7"], waiting["overdue"]), (1, 0, 0))
			self.assertEqual(waiting["paused_now"], 1)
			self.assertAlmostEqual(waiting["paused_days"], 3.0, delta=0.01)  # one day before, two now
		finally:
			for key in ("c3", "c5"):
				frappe.db.set_value("Grievance", self.cases[key], "received_on", ensure_received(key))

	def test_outcomes_and_remedies(self):
		filters = {"from_date": "2026-06-01", "to_date": frappe.utils.nowdate(), "union": "A Konfederasi"}
		rows = by(outcomes_and_remedies.execute(filters)[1], "category")
		self.assertEqual(set(rows), {"A Upah"})  # the open K3 cases are not finished
		row = rows["A Upah"]
		self.assertEqual(
			(row["cases"], row["won"], row["settled"], row["lost"], row["rejected"]), (4, 1, 1, 1, 1)
		)
		self.assertEqual((row["back_pay_recovered"], row["workers_benefited"]), (1_500_000, 12))
		self.assertEqual((row["rated"], row["average_rating"]), (2, 3.0))  # 4 and 2 stars
		self.assertEqual(row["win_rate"], 50.0)

	def test_who_is_affected(self):
		rows = by(who_is_affected.execute(WINDOW)[1], "category")
		upah, k3 = rows["A Upah"], rows["A K3"]
		self.assertEqual((upah["female"], upah["male"], upah["gender_not_set"]), (1, 2, 1))
		self.assertEqual((upah["members"], upah["non_members"], upah["anonymous"]), (3, 1, 0))
		self.assertEqual((upah["workers_affected"], upah["female_share"]), (17, 33.3))
		self.assertEqual(
			(k3["female"], k3["anonymous"], k3["non_members"], k3["female_share"]), (2, 1, 1, 100.0)
		)
		by_sector = by(who_is_affected.execute({**WINDOW, "group_by": "sector"})[1], "sector")
		self.assertEqual(by_sector["A Garmen"]["cases"], 6)

	def test_employers_and_brands(self):
		rows = by(employers_and_brands.execute(WINDOW)[1], "employer")
		satu, dua = rows["A Pabrik Satu"], rows["A Pabrik Dua"]
		self.assertEqual(
			(satu["cases"], satu["workplaces"], satu["workers_affected"], satu["open_cases"]), (4, 2, 19, 1)
		)
		self.assertEqual(satu["top_categories"], "A Upah (3), A K3 (1)")
		self.assertEqual(
			(dua["cases"], dua["workplaces"], dua["top_categories"]), (2, 1, "A K3 (1), A Upah (1)")
		)
		_columns, brand_rows, _m, _c, summary = employers_and_brands.execute(
			{**WINDOW, "view": "Brand or Buyer"}
		)
		brands = by(brand_rows, "brand")
		self.assertEqual((brands["A Brand X"]["cases"], brands["A Brand X"]["employers"]), (6, 2))
		self.assertEqual((brands["A Buyer Y"]["cases"], brands["A Buyer Y"]["workplaces"]), (4, 2))
		self.assertEqual(summary[1]["value"], 6)  # each case once, however many buyers

	def test_a_branch_official_sees_only_their_branch(self):
		frappe.set_user("a.branch.satu@test.unioncase.org")
		rows = by(case_volume.execute({**WINDOW, "union": None})[1], "category")
		self.assertEqual({name: row["total"] for name, row in rows.items()}, {"A Upah": 3, "A K3": 1})
		frappe.set_user("a.branch.dua@test.unioncase.org")
		rows = by(employers_and_brands.execute({**WINDOW, "union": None})[1], "employer")
		self.assertEqual(set(rows), {"A Pabrik Satu"})
		self.assertEqual(rows["A Pabrik Satu"]["cases"], 2)
		# asking for another branch's union gives nothing of it
		rows = case_volume.execute({**WINDOW, "union": "A Cabang Satu"})[1]
		self.assertEqual(rows, [])

	def test_every_report_total_equals_the_case_list_count(self):
		"""Each report's case total, for every test official, equals the length of their case list."""
		reports = {
			"Case Volume": lambda: sum(
				row["total"] for row in case_volume.execute({**ALL_TIME, "period": "Year"})[1]
			),
			"Resolution Performance": lambda: next(
				(
					row["cases"]
					for row in resolution_performance.execute(ALL_TIME)[1]
					if row["level"] == "Total"
				),
				0,
			),
			"Who Is Affected": lambda: sum(row["cases"] for row in who_is_affected.execute(ALL_TIME)[1]),
		}
		for email in [*USERS, *OFFICIALS]:
			frappe.set_user(email)
			listed = len(
				frappe.get_list(
					"Grievance",
					filters=[["received_on", "between", ["2000-01-01", "2099-12-31"]]],
					pluck="name",
					limit_page_length=0,
				)
			)
			open_listed = len(
				frappe.get_list("Grievance", filters={"status": "Open"}, pluck="name", limit_page_length=0)
			)
			for name, total in reports.items():
				with self.subTest(report=name, user=email):
					self.assertEqual(total(), listed)
			with self.subTest(report="Open Case Ageing", user=email):
				self.assertEqual(sum(row["cases"] for row in open_case_ageing.execute({})[1]), open_listed)
		frappe.set_user("a.federation@test.unioncase.org")
		self.assertEqual(
			len(
				frappe.get_list(
					"Grievance", filters={"subject": ["like", "A analytics case %"]}, pluck="name"
				)
			),
			6,
		)

	def test_bad_input_is_a_clear_error(self):
		for filters, word in (
			({"reporter_phone": "+62812"}, "reporter_phone"),
			({"category": "No Such Category"}, "No Such Category"),
			({"union": "No Such Union"}, "No Such Union"),
			({"kind": "Lawsuit"}, "Lawsuit"),
			({"from_date": "not a date"}, "From Date"),
			({"group_by": "reporter_name"}, "reporter_name"),
			({"period": "Decade"}, "Decade"),
		):
			with self.subTest(filters=filters), self.assertRaises(frappe.ValidationError) as raised:
				case_volume.execute({**WINDOW, **filters})
			self.assertIn(word, str(raised.exception))
		with self.assertRaises(frappe.ValidationError):
			dimension_sql("member")

	def test_empty_results_are_explained(self):
		for report in (
			case_volume,
			resolution_performance,
			outcomes_and_remedies,
			who_is_affected,
			employers_and_brands,
		):
			with self.subTest(report=report.__name__):
				columns, rows, message = report.execute({"from_date": "2001-01-01", "to_date": "2001-01-31"})[
					:3
				]
				self.assertEqual(rows, [])
				self.assertIn("No cases", message)
				self.assertTrue(columns)

	def test_a_single_case_and_a_moved_category(self):
		# c6 alone; then its category moves under K3 and the report follows the tree at once
		filters = {"from_date": "2026-08-04", "to_date": "2026-08-04", "union": "A Konfederasi"}
		self.assertEqual(by(case_volume.execute(filters)[1], "category")["A Upah"]["total"], 1)
		doc = frappe.get_doc("Grievance Category", "A Lembur")
		doc.parent_grievance_category = "A K3"
		doc.save()
		try:
			rows = by(case_volume.execute(WINDOW)[1], "category")
			self.assertEqual((rows["A Upah"]["total"], rows["A K3"]["total"]), (2, 4))
		finally:
			doc.reload()
			doc.parent_grievance_category = "A Upah"
			doc.save()

	def test_no_identity_field_is_ever_selected(self):
		from unioncase.privacy.identity import IDENTITY_FIELDS

		query = CaseQuery(WINDOW)
		with self.assertRaises(RuntimeError):
			query.rows({"who": "`tabGrievance`.`reporter_name`"})
		for report in (
			case_volume,
			resolution_performance,
			open_case_ageing,
			outcomes_and_remedies,
			who_is_affected,
			employers_and_brands,
		):
			columns = report.execute(
				WINDOW if report is not open_case_ageing else {"union": "A Konfederasi"}
			)[0]
			self.assertFalse({column["fieldname"] for column in columns} & set(IDENTITY_FIELDS["Grievance"]))


def ensure_received(key):
	from unioncase.tests.analytics_data import CASES

	return CASES[key]["received"]


class TestCustomFieldDimensions(IntegrationTestCase):
	"""A federation's own custom field is a group-by choice; once removed, asking for it is a clear error."""

	def test_custom_field_groups_and_its_removal_is_explained(self):
		from frappe.custom.doctype.custom_field.custom_field import create_custom_field

		from unioncase.reports.queries import dimension_choices

		cases = ensure_hierarchy()
		create_custom_field(
			"Grievance",
			{
				"fieldname": "uc_shift",
				"label": "Shift",
				"fieldtype": "Select",
				"options": "\nDay\nNight",
				"insert_after": "channel",
			},
		)
		try:
			self.assertIn("uc_shift", dict(dimension_choices()))
			frappe.db.set_value(
				"Grievance", cases["T PUK Bogor Satu"], "uc_shift", "Night", update_modified=False
			)
			rows = by(
				case_volume.execute(
					{**ALL_TIME, "union": "T PUK Bogor Satu", "group_by": "uc_shift", "period": "Year"}
				)[1],
				"uc_shift",
			)
			self.assertEqual(rows["Night"]["total"], 1)
		finally:
			frappe.delete_doc("Custom Field", "Grievance-uc_shift", force=True)
			frappe.clear_cache(doctype="Grievance")
			frappe.db.commit()
		self.assertNotIn("uc_shift", dict(dimension_choices()))
		with self.assertRaises(frappe.ValidationError) as raised:
			case_volume.execute({**ALL_TIME, "group_by": "uc_shift"})
		self.assertIn("uc_shift", str(raised.exception))


class TestCategoryTop(IntegrationTestCase):
	"""Which categories a report shows when none is chosen: the top of the tree, below a lone root."""

	@staticmethod
	def tree(*rows):
		return [frappe._dict(name=name, lft=lft, rgt=rgt, parent=parent) for name, lft, rgt, parent in rows]

	def test_a_tree_under_one_root_is_shown_by_what_is_below_it(self):
		# All > (Wages > Overtime, Safety); a new site's tree has one root that holds every case
		tree = self.tree(
			("All", 1, 8, None), ("Wages", 2, 5, "All"), ("Overtime", 3, 4, "Wages"), ("Safety", 6, 7, "All")
		)
		self.assertEqual(
			map_to_shown(tree, ["Overtime", "Wages", "Safety", "All"]),
			{"Overtime": "Wages", "Wages": "Wages", "Safety": "Safety", "All": "All"},
		)
		# with two roots the roots are the top; a chosen category shows its children
		tree.append(frappe._dict(name="Other", lft=9, rgt=10, parent=None))
		self.assertEqual(
			map_to_shown(tree, ["Overtime", "Safety", "Other"]),
			{"Overtime": "All", "Safety": "All", "Other": "Other"},
		)
		self.assertEqual(
			map_to_shown(tree, ["Overtime", "Wages"], "Wages"), {"Overtime": "Overtime", "Wages": "Wages"}
		)
