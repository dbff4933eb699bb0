"""The monthly rollup (reports/rollup.py) stays exact: after each kind of change, every grain's sums equal
a GROUP BY over `tabGrievance` written here, and the reports that read it answer the same as from the
per-case analytics table, whole months and partial edge months alike.

Uses the analytics dataset (analytics_data.py: six cases in June, July and August 2026); nothing is
committed.
"""

from datetime import datetime

import frappe
from frappe.model.rename_doc import rename_doc

from unioncase.compat import IntegrationTestCase
from unioncase.reports import (
	case_volume,
	employers_and_brands,
	outcomes_and_remedies,
	rollup,
	summary,
	who_is_affected,
)
from unioncase.reports.queries import CaseQuery
from unioncase.tests.analytics_data import AnalyticsTestCase, ensure_analytics_data, register_cleanup
from unioncase.tests.hierarchy_data import ensure_hierarchy

ROOT = "A Konfederasi"
FEDERATION = "a.federation@test.unioncase.org"
BRANCH = "a.branch.satu@test.unioncase.org"
ALL_TIME = {"from_date": "2000-01-01", "to_date": "2099-12-31"}
# July from the rollup, the second half of June and the first days of August from the analytics table
EDGES = {"from_date": "2026-06-15", "to_date": "2026-08-05"}


# the measures as the case table gives them, in the rollup's order (rollup.MEASURES)
CASE_MEASURES = (
	"count(*)",
	"coalesce(sum(workers_affected), 0)",
	"coalesce(sum(workers_benefited), 0)",
	"coalesce(sum(back_pay_recovered), 0)",
	"coalesce(sum(satisfaction_rating > 0), 0)",
	"coalesce(sum(case when satisfaction_rating > 0 then satisfaction_rating end), 0)",
)
# a case is finished when resolved or closed (on its resolution date) or rejected (at its last change)
FINISHED = (
	"case when status in ('Resolved', 'Closed') then resolved_on when status = 'Rejected' then modified end"
)


def figures(row) -> dict:
	width = len(CASE_MEASURES)
	return {tuple(str(v) for v in row[:-width]): tuple(float(v) for v in row[-width:])}


def from_rollup(grain: str) -> dict:
	columns = rollup.GRAINS[grain]
	keys = ", ".join(f"`{c}`" for c in columns)
	sums = ", ".join(f"sum(`{name}`)" for name in rollup.MEASURES)
	rows = frappe.db.sql(
		f"""select date(received_on), {keys}, {sums}
		from `{rollup.TABLE}` where grain = %s and confederation = %s
		group by date(received_on), {keys} having {" or ".join(f"sum(`{n}`) <> 0" for n in rollup.MEASURES)}""",
		(grain, ROOT),
	)
	return {key: value for row in rows for key, value in figures(row).items()}


def from_cases(grain: str) -> dict:
	"""The same sums straight from the case table: the months and groups the rollup should hold."""
	columns = ["ifnull(is_anonymous, 0)" if c == "is_anonymous" else f"`{c}`" for c in rollup.GRAINS[grain]]
	keys = ", ".join(columns)
	month = FINISHED if grain in rollup.FINISHED_GRAINS else "coalesce(received_on, creation)"
	rows = frappe.db.sql(
		f"""select date_format({month}, '%%Y-%%m-01'), {keys}, {", ".join(CASE_MEASURES)}
		from `tabGrievance` where confederation = %(root)s and ({month}) is not null
		group by 1, {keys}""",
		{"root": ROOT},
	)
	return {key: value for row in rows for key, value in figures(row).items()}


class TestAnalyticsRollup(AnalyticsTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		self.forget_flags()
		frappe.db.savepoint("uc_rollup_test")

	def tearDown(self):
		frappe.set_user("Administrator")
		self.forget_flags()
		frappe.db.rollback(save_point="uc_rollup_test")
		frappe.clear_cache(doctype="Grievance")
		frappe.cache.delete_value("user_permissions")

	@staticmethod
	def forget_flags():
		frappe.local.flags.uc_analytics_table = None
		frappe.local.flags.uc_analytics_rollup = None
		frappe.local.flags.uc_analytics_rollup_table = None

	def assertExact(self):
		self.assertTrue(rollup.exists())
		for grain in rollup.GRAINS:
			with self.subTest(grain=grain):
				self.assertEqual(from_rollup(grain), from_cases(grain))
		self.assertReportsAgree()

	def assertReportsAgree(self):
		"""Each report that reads the rollup gives what the per-case analytics table gives."""
		reports = [
			(case_volume, {"period": "Month"}),
			(case_volume, {"period": "Quarter", "group_by": "kind"}),
			(case_volume, {"period": "Year", "group_by": "branch"}),
			(case_volume, {"group_by": "status", "category": "A Upah"}),
			(who_is_affected, {}),
			(outcomes_and_remedies, {}),
			(outcomes_and_remedies, {"group_by": "outcome"}),
			(employers_and_brands, {}),
		]
		for user in ("Administrator", FEDERATION, BRANCH):
			frappe.set_user(user)
			for module, filters in reports:
				for window in (ALL_TIME, EDGES):
					arguments = {**window, **filters}
					self.forget_flags()
					rolled = module.execute(dict(arguments))
					frappe.local.flags.uc_analytics_rollup = False  # the per-case path, for this call
					per_case = module.execute(dict(arguments))
					with self.subTest(report=module.__name__, user=user, filters=arguments):
						for part in (1, 3, 4):  # rows, chart, summary
							self.assertEqual(frappe.as_json(rolled[part]), frappe.as_json(per_case[part]))
		frappe.set_user("Administrator")
		self.forget_flags()

	def federation_total(self, **filters) -> int:
		frappe.set_user(FEDERATION)
		self.forget_flags()
		total = case_volume.execute({**ALL_TIME, **filters})[4][0]["value"]
		frappe.set_user("Administrator")
		return total

	def new_case(self, **values):
		return frappe.get_doc(
			{
				"doctype": "Grievance",
				"subject": "A rollup case",
				"owning_union": "A PUK Satu",
				"workplace_union": "A PUK Satu",
				"category": "A Lembur",
				"workers_affected": 7,
				"received_on": datetime(2026, 7, 20, 9),
				**values,
			}
		).insert()

	def test_the_dataset_is_exact_and_the_rollup_is_read(self):
		self.assertExact()
		frappe.set_user(FEDERATION)
		self.forget_flags()
		query = CaseQuery(ALL_TIME, extra=("period",))
		query.aggregate(["category"], ["cases"], period="Month")
		self.assertEqual(query.source, f"`{rollup.TABLE}` `tabGrievance`")
		# weeks are not whole months: the analytics table answers
		query = CaseQuery(ALL_TIME)
		query.aggregate(["category"], ["cases"], period="Week")
		self.assertEqual(query.source, f"`{summary.TABLE}` `tabGrievance`")
		# a workplace union's official is scoped by the originating union, which the rollup does not hold
		frappe.set_user("a.puk.dua@test.unioncase.org")
		query = CaseQuery(ALL_TIME)
		query.aggregate(["category"], ["cases"])
		self.assertNotEqual(query.source, f"`{rollup.TABLE}` `tabGrievance`")
		frappe.set_user("Administrator")
		# a figure changed in the rollup alone shows in the report: it is what the report read
		frappe.db.sql(
			f"""update `{rollup.TABLE}` set workers_affected = workers_affected + 100
			where grain = 'f_who' and confederation = %s and category = 'A Lembur'
			and reporter_gender = 'Female' and received_on = '2026-06-01' and cases > 0 limit 1""",
			ROOT,
		)
		frappe.set_user(FEDERATION)
		self.forget_flags()
		rows = who_is_affected.execute(dict(ALL_TIME))[1]
		self.assertEqual({row["category"]: row["workers_affected"] for row in rows}["A Upah"], 117)

	def test_outcomes_read_the_months_of_the_finish(self):
		# June and July whole from the rollup: c1 (won, 1,000,000 back pay, 10 benefited, 4 stars) and
		# c2 (settled, 500,000, 2, 2 stars) were resolved in June; c6 in August, c4 rejected today
		window = {"from_date": "2026-06-01", "to_date": "2026-07-31"}
		frappe.set_user(FEDERATION)
		self.forget_flags()
		(row,) = outcomes_and_remedies.execute(dict(window))[1]
		self.assertEqual(
			(row["category"], row["cases"], row["won"], row["settled"], row["lost"], row["rejected"]),
			("A Upah", 2, 1, 1, 0, 0),
		)
		self.assertEqual((row["back_pay_recovered"], row["workers_benefited"]), (1_500_000, 12))
		self.assertEqual((row["rated"], row["average_rating"], row["win_rate"]), (2, 3.0, 100.0))
		# a figure changed in the rollup alone shows in the report: it is what the report read
		frappe.set_user("Administrator")
		frappe.db.sql(
			f"""update `{rollup.TABLE}` set back_pay_recovered = back_pay_recovered + 100
			where grain = 'f_finished' and confederation = %s and received_on = '2026-06-01'
			and outcome = 'Partially Resolved' and cases > 0 limit 1""",
			ROOT,
		)
		frappe.set_user(FEDERATION)
		self.forget_flags()
		(row,) = outcomes_and_remedies.execute(dict(window))[1]
		self.assertEqual(row["back_pay_recovered"], 1_500_100)
		# August is partial here (to the 25th): c6, lost, resolved on the 20th, read from the analytics table
		self.forget_flags()
		(row,) = outcomes_and_remedies.execute({"from_date": "2026-07-01", "to_date": "2026-08-25"})[1]
		self.assertEqual((row["cases"], row["lost"], row["back_pay_recovered"]), (1, 1, 0))

	def test_employers_read_their_groups_from_the_rollup(self):
		# A Pabrik Satu: c1, c2 at A PUK Satu and c5 (open), c6 at A PUK Tiga; 10 + 2 + 3 + 4 workers
		frappe.set_user(FEDERATION)
		self.forget_flags()
		rows = {row["employer"]: row for row in employers_and_brands.execute(dict(ALL_TIME))[1]}
		satu = rows["A Pabrik Satu"]
		self.assertEqual(
			(satu["cases"], satu["workplaces"], satu["open_cases"], satu["workers_affected"]), (4, 2, 1, 19)
		)
		frappe.set_user("Administrator")
		# a group changed in the rollup alone shows: a third workplace union, with more workers
		frappe.db.sql(
			f"""update `{rollup.TABLE}` set workplace_union = 'A PUK Dua', workers_affected = workers_affected + 100
			where grain = 'f_employer' and confederation = %s and employer = 'A Pabrik Satu'
			and received_on = '2026-06-01' and cases > 0 limit 1""",
			ROOT,
		)
		frappe.set_user(FEDERATION)
		self.forget_flags()
		rows = {row["employer"]: row for row in employers_and_brands.execute(dict(ALL_TIME))[1]}
		self.assertEqual(
			(rows["A Pabrik Satu"]["workplaces"], rows["A Pabrik Satu"]["workers_affected"]), (3, 119)
		)

	def test_a_case_resolved_then_reopened_moves_between_months_of_the_finish(self):
		doc = self.new_case()
		frappe.db.set_value(
			"Grievance",
			doc.name,
			{
				"status": "Resolved",
				"resolved_on": "2026-07-25",
				"outcome": "Resolved in Favour of Worker",
				"back_pay_recovered": 250_000,
				"workers_benefited": 7,
				"satisfaction_rating": 0.6,
			},
			update_modified=False,
		)
		summary.refresh_cases([doc.name])  # what the case hooks do
		self.assertExact()
		frappe.set_user(FEDERATION)
		self.forget_flags()
		(row,) = outcomes_and_remedies.execute({"from_date": "2026-07-01", "to_date": "2026-07-31"})[1]
		self.assertEqual(
			(row["cases"], row["won"], row["back_pay_recovered"], row["rated"]), (1, 1, 250_000, 1)
		)
		frappe.set_user("Administrator")
		frappe.db.set_value("Grievance", doc.name, {"resolved_on": "2026-06-10"}, update_modified=False)
		summary.refresh_cases([doc.name])
		self.assertExact()
		frappe.db.set_value("Grievance", doc.name, {"status": "Open", "resolved_on": None, "outcome": None})
		summary.refresh_cases([doc.name])
		self.assertExact()
		frappe.set_user(FEDERATION)
		self.forget_flags()
		self.assertEqual(
			outcomes_and_remedies.execute({"from_date": "2026-07-01", "to_date": "2026-07-31"})[1], []
		)

	def test_a_case_changes_category_union_stage_and_is_deleted(self):
		doc = self.new_case()
		self.assertExact()
		self.assertEqual(self.federation_total(), 7)

		doc.reload()
		doc.category = "A K3"
		doc.workers_affected = 9
		doc.received_on = datetime(2026, 6, 20, 9)  # into another month, half of the edge window
		doc.save()
		self.assertExact()

		doc.reload()
		doc.owning_union = "A PUK Tiga"  # into the other branch
		doc.workplace_union = "A PUK Tiga"
		doc.save()
		self.assertExact()

		doc.reload()
		doc.workflow_state = "Rejected"
		doc.save()
		self.assertEqual(frappe.db.get_value("Grievance", doc.name, "status"), "Rejected")
		self.assertExact()

		frappe.delete_doc("Grievance", doc.name, force=True)
		self.assertExact()
		self.assertEqual(self.federation_total(), 6)

	def test_a_save_without_a_change_of_its_groups_writes_nothing(self):
		doc = frappe.get_doc("Grievance", self.cases["c3"])
		before = frappe.db.sql(f"select count(*) from `{rollup.TABLE}`")[0][0]
		doc.severity = "High" if doc.severity != "High" else "Low"
		doc.save()
		self.assertEqual(frappe.db.sql(f"select count(*) from `{rollup.TABLE}`")[0][0], before)
		self.assertExact()

	def test_a_union_moved_to_another_branch_and_renamed(self):
		union = frappe.get_doc("Union", "A PUK Dua")
		union.parent_union = "A Cabang Dua"
		union.save()
		self.assertEqual(frappe.db.get_value("Grievance", self.cases["c3"], "branch"), "A Cabang Dua")
		self.assertExact()
		rename_doc("Union", "A Cabang Dua", "A Cabang Dua Baru", force=True)
		rename_doc("Grievance Category", "A Upah Minimum", "A Upah Pokok", force=True)
		self.assertExact()

	def test_direct_writes_and_deletions_are_reconciled_and_compacted(self):
		frappe.db.sql(
			"update `tabGrievance` set category = 'A K3', modified = now(6) where name = %s",
			self.cases["c1"],
		)
		frappe.db.sql("delete from `tabGrievance` where name = %s", self.cases["c2"])
		self.assertNotEqual(from_rollup("f_category"), from_cases("f_category"))
		frappe.db.set_global(summary.WATERMARK_KEY, "2000-01-01")
		# the five-minute reconcile (changed cases, then compaction) and the daily prune (deleted ones)
		summary.prune(commit=False)
		summary.reconcile(commit=False)
		self.assertExact()
		deltas = frappe.db.sql(
			f"select count(*) from `{rollup.TABLE}` where delta = 1 and received_on < '2026-09-01'"
		)[0][0]
		self.assertEqual(deltas, 0)  # finished months hold merged rows only
