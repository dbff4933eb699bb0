"""The analytics table (reports/summary.py) stays exact: after each kind of change, its figures equal a
direct GROUP BY over `tabGrievance` written here, and every report answers the same from it as from
the case table.

Uses the analytics dataset (analytics_data.py, its own tree "A Konfederasi"); nothing is committed.
"""

from datetime import datetime

import frappe
from frappe.model.rename_doc import rename_doc

from unioncase.compat import IntegrationTestCase
from unioncase.reports import (
	case_volume,
	employers_and_brands,
	outcomes_and_remedies,
	resolution_performance,
	summary,
	who_is_affected,
)
from unioncase.tests.analytics_data import AnalyticsTestCase, ensure_analytics_data, register_cleanup
from unioncase.tests.hierarchy_data import ensure_hierarchy

ROOT = "A Konfederasi"
ALL_TIME = {"from_date": "2000-01-01", "to_date": "2099-12-31", "union": ROOT}
KEYS = (
	"category",
	"kind",
	"status",
	"workflow_state",
	"severity",
	"channel",
	"owning_level",
	"owning_union",
	"originating_union",
	"workplace_union",
	"branch",
	"federation",
	"confederation",
	"employer",
	"outcome",
	"reporter_gender",
	"reporter_type",
	"date(received_on)",
	"date(resolved_on)",
)
# the sums as the case table gives them (the escalation flag from its child table)
CASE_SUMS = (
	"count(*)",
	"coalesce(sum(workers_affected), 0)",
	"coalesce(sum(workers_benefited), 0)",
	"coalesce(sum(back_pay_recovered), 0)",
	"coalesce(sum(satisfaction_rating), 0)",
	"coalesce(sum(ifnull(is_anonymous, 0)), 0)",
	"sum(exists (select 1 from `tabGrievance Escalation` h where h.parent = g.name"
	" and h.parenttype = 'Grievance' and h.direction = 'Escalated'))",
)
TABLE_SUMS = (*CASE_SUMS[:-1], "sum(escalated)")


def grouped(table: str, sums) -> set:
	keys = ", ".join(KEYS)
	rows = frappe.db.sql(
		f"""select {keys}, {", ".join(sums)} from `{table}` g
		where confederation = %(root)s or owning_union = %(root)s or name in %(names)s
		group by {keys}""",
		{"root": ROOT, "names": tuple(TestAnalyticsSummary.created) or ("",)},
	)
	return {tuple(str(value) for value in row) for row in rows}


def plain(value):
	"""A report's answer with NaN as None (NaN equals nothing, not even itself)."""
	return frappe.parse_json(frappe.as_json(value).replace("NaN", "null"))


def stay_local():
	"""The reports read the case table (for the comparison), for the rest of this request."""
	frappe.local.flags.uc_analytics_table = False


class TestAnalyticsSummary(AnalyticsTestCase):
	created = []

	def setUp(self):
		frappe.set_user("Administrator")
		frappe.local.flags.uc_analytics_table = None
		frappe.db.savepoint("uc_summary_test")

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.local.flags.uc_analytics_table = None
		try:
			frappe.db.rollback(save_point="uc_summary_test")
		except Exception:
			# gone: a new case's assignment mail is sent at once in tests, and v15's send commits
			frappe.db.rollback()
		# a case that commit kept would stay in the other analytics tests' figures
		created = TestAnalyticsSummary.created
		kept = frappe.get_all("Grievance", filters={"name": ("in", created)}, pluck="name") if created else []
		for name in kept:
			frappe.delete_doc("Grievance", name, force=True, ignore_permissions=True)
		if kept:
			frappe.db.commit()
		frappe.clear_cache(doctype="Grievance")
		frappe.cache.delete_value("user_permissions")
		TestAnalyticsSummary.created = []

	def assertExact(self):
		self.assertEqual(grouped(summary.TABLE, TABLE_SUMS), grouped("tabGrievance", CASE_SUMS))

	def new_case(self, **values) -> "frappe.model.document.Document":
		doc = frappe.get_doc(
			{
				"doctype": "Grievance",
				"subject": "A summary case",
				"owning_union": "A PUK Satu",
				"workplace_union": "A PUK Satu",
				"category": "A Lembur",
				"workers_affected": 7,
				"received_on": datetime(2026, 7, 20, 9),
				**values,
			}
		).insert()
		TestAnalyticsSummary.created.append(doc.name)
		return doc

	def test_the_dataset_is_exact_and_the_table_is_read(self):
		self.assertExact()
		rows = frappe.db.sql(f"select count(*) from `{summary.TABLE}` where confederation = %s", ROOT)[0][0]
		self.assertEqual(rows, 6)
		# the reports read the table: a figure changed in it alone shows in the report
		frappe.db.sql(
			f"update `{summary.TABLE}` set workers_affected = 100 where name = %s", self.cases["c1"]
		)
		rows = who_is_affected.execute(dict(ALL_TIME))[1]
		self.assertEqual(
			{row["category"]: row["workers_affected"] for row in rows}["A Upah"], 107
		)  # 17, with c1 counted 100 instead of 10

	def test_insert_update_and_delete(self):
		doc = self.new_case()
		self.assertExact()
		self.assertEqual(self.total(), 7)

		doc.reload()
		doc.category = "A K3"
		doc.workers_affected = 9
		doc.save()
		self.assertExact()
		by_category = self.case_volume_by("category")
		self.assertEqual((by_category["A Upah"], by_category["A K3"]), (4, 3))

		doc.reload()
		doc.owning_union = "A PUK Dua"
		doc.workplace_union = "A PUK Dua"
		doc.save()
		self.assertExact()
		self.assertEqual(self.case_volume_by("originating_union")["A PUK Dua"], 3)

		doc.reload()
		doc.workflow_state = "Rejected"
		doc.save()
		self.assertEqual(frappe.db.get_value("Grievance", doc.name, "status"), "Rejected")
		self.assertExact()
		self.assertEqual(self.case_volume_by("status")["Rejected"], 2)

		frappe.delete_doc("Grievance", doc.name, force=True)
		self.assertExact()
		self.assertEqual(self.total(), 6)
		self.assertFalse(self.row_of(doc.name))

	def test_a_union_moved_to_another_branch(self):
		union = frappe.get_doc("Union", "A PUK Dua")
		union.parent_union = "A Cabang Dua"
		union.save()
		self.assertEqual(frappe.db.get_value("Grievance", self.cases["c3"], "branch"), "A Cabang Dua")
		self.assertExact()
		by_branch = self.case_volume_by("branch")
		# c1, c2 stay in Cabang Satu; c3, c4 (PUK Dua) join c5, c6 in Cabang Dua
		self.assertEqual((by_branch.get("A Cabang Satu"), by_branch["A Cabang Dua"]), (2, 4))
		# the branch official's report follows the move, as their case list does
		frappe.set_user("a.branch.dua@test.unioncase.org")
		self.assertEqual(self.total(union=None), 4)

	def test_a_category_moved_in_the_tree_and_renamed(self):
		category = frappe.get_doc("Grievance Category", "A Lembur")
		category.parent_grievance_category = "A K3"
		category.save()
		self.assertExact()
		by_category = self.case_volume_by("category")
		# A Lembur's two cases (c1, c4) now count for A K3
		self.assertEqual((by_category["A Upah"], by_category["A K3"]), (2, 4))

		rename_doc("Grievance Category", "A Upah Minimum", "A Upah Pokok", force=True)
		self.assertExact()
		inside = self.case_volume_by("category", category="A Upah")
		self.assertEqual(inside, {"A Upah Pokok": 1, "A Upah": 1})

	def test_a_renamed_union_and_employer(self):
		rename_doc("Union", "A PUK Tiga", "A PUK Tiga Baru", force=True)
		rename_doc("Employer", "A Pabrik Dua", "A Pabrik Dua Baru", force=True)
		self.assertExact()
		self.assertEqual(self.case_volume_by("workplace_union")["A PUK Tiga Baru"], 2)
		self.assertEqual(self.case_volume_by("employer")["A Pabrik Dua Baru"], 2)

	def test_direct_writes_are_reconciled(self):
		frappe.db.sql(
			"update `tabGrievance` set category = 'A K3', modified = now(6) where name = %s",
			self.cases["c1"],
		)
		self.assertNotEqual(grouped(summary.TABLE, TABLE_SUMS), grouped("tabGrievance", CASE_SUMS))
		frappe.db.set_global(summary.WATERMARK_KEY, "2000-01-01")
		summary.reconcile(commit=False)
		self.assertExact()
		frappe.db.sql("delete from `tabGrievance` where name = %s", self.cases["c2"])
		summary.prune(commit=False)
		self.assertExact()

	def test_every_report_answers_the_same_from_the_table_and_the_cases(self):
		self.new_case(category="A Upah", received_on=datetime(2026, 8, 10, 8))
		reports = [
			(case_volume, {"period": "Month"}),
			(case_volume, {"group_by": "branch", "period": "Week"}),
			(case_volume, {"group_by": "sector", "period": "Quarter"}),
			(case_volume, {"group_by": "worker_category", "category": "A Upah"}),
			(resolution_performance, {}),
			(resolution_performance, {"group_by": "category"}),
			(resolution_performance, {"group_by": "union"}),
			(resolution_performance, {"group_by": "gender"}),
			(outcomes_and_remedies, {}),
			(outcomes_and_remedies, {"group_by": "level"}),
			(who_is_affected, {}),
			(who_is_affected, {"group_by": "sector"}),
			(employers_and_brands, {}),
			(employers_and_brands, {"view": "Brand or Buyer"}),
		]
		for user in ("Administrator", "a.federation@test.unioncase.org", "a.puk.dua@test.unioncase.org"):
			frappe.set_user(user)
			for module, filters in reports:
				for window in (ALL_TIME, {"from_date": "2026-06-15", "to_date": "2026-08-05"}):
					arguments = {**window, **filters}
					if user != "Administrator":
						arguments.pop("union", None)
					frappe.local.flags.uc_analytics_table = None
					from_table = module.execute(dict(arguments))
					self.assertTrue(summary.exists())
					stay_local()
					from_cases = module.execute(dict(arguments))
					with self.subTest(report=module.__name__, user=user, filters=arguments):
						for part in (1, 3, 4):  # rows, chart, summary
							self.assertEqual(plain(from_table[part]), plain(from_cases[part]))

	# --- helpers ---

	def row_of(self, name):
		return frappe.db.sql(f"select name from `{summary.TABLE}` where name = %s", name)

	def total(self, union=ROOT) -> int:
		filters = {**ALL_TIME, "union": union} if union else {"from_date": "2000-01-01"}
		return case_volume.execute(filters)[4][0]["value"]

	def case_volume_by(self, group: str, **filters) -> dict:
		rows = case_volume.execute({**ALL_TIME, "group_by": group, **filters})[1]
		return {row[group]: row["total"] for row in rows if isinstance(row, dict)}
