"""A small known dataset for the analytics tests: its own tree, categories, employers and six cases.

The expected figures in test_analytics.py are computed by hand from the table below, not by the code
under test. Nothing here commits: the test class rolls it back.
"""

from datetime import datetime

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.reports import summary
from unioncase.tests.hierarchy_data import ensure_hierarchy, ensure_user

SECTOR = "A Garmen"
CALENDAR = "A Kalender Senin-Jumat"
TREE = (
	# (union, level, parent, employer, province)
	("A Konfederasi", "Confederation", None, None, "A Jawa Barat"),
	("A Federasi", "Federation", "A Konfederasi", None, "A Jawa Barat"),
	("A Cabang Satu", "Branch", "A Federasi", None, "A Jawa Barat"),
	("A PUK Satu", "Workplace Union", "A Cabang Satu", "A Pabrik Satu", "A Jawa Barat"),
	("A PUK Dua", "Workplace Union", "A Cabang Satu", "A Pabrik Dua", "A Banten"),
	("A Cabang Dua", "Branch", "A Federasi", None, "A Jawa Tengah"),
	("A PUK Tiga", "Workplace Union", "A Cabang Dua", "A Pabrik Satu", "A Jawa Tengah"),
)
CATEGORIES = (("A Upah", None), ("A Lembur", "A Upah"), ("A Upah Minimum", "A Upah"), ("A K3", None))
EMPLOYERS = {"A Pabrik Satu": ("A Brand X", "A Buyer Y"), "A Pabrik Dua": ("A Brand X",)}
OFFICIALS = {
	"a.branch.satu@test.unioncase.org": ("Branch Official", "A Cabang Satu"),
	"a.branch.dua@test.unioncase.org": ("Branch Official", "A Cabang Dua"),
	"a.federation@test.unioncase.org": ("Federation Official", "A Federasi"),
	"a.puk.dua@test.unioncase.org": ("Workplace Union Official", "A PUK Dua"),
}

D = datetime
# key: workplace union, category, received, gender, worker category, status, stage, outcome, responded,
# resolved, resolution due, back pay, workers benefited, rating (fraction of 5 stars), workers affected,
# escalated, overdue
CASES = {
	"c1": dict(
		union="A PUK Satu", category="A Lembur", received=D(2026, 6, 1, 9), gender="Female", worker="Member",
		status="Resolved", stage="Resolved", outcome="Resolved in Favour of Worker", responded=D(2026, 6, 1, 15),
		resolved="2026-06-05", due=D(2026, 7, 13), back_pay=1_000_000, benefited=10, rating=0.8, workers=10,
	),
	"c2": dict(
		union="A PUK Satu", category="A Upah Minimum", received=D(2026, 6, 5, 12), gender="Male",
		worker="Non-member", status="Resolved", stage="Resolved", outcome="Partially Resolved",
		responded=D(2026, 6, 8, 12), resolved="2026-06-19", due=D(2026, 6, 10), back_pay=500_000, benefited=2,
		rating=0.4, workers=2,
	),
	"c3": dict(
		union="A PUK Dua", category="A K3", received=D(2026, 7, 1, 8), gender="Female", worker="Anonymous",
		status="Open", stage="Received", workers=5, overdue=1,
	),
	"c4": dict(
		union="A PUK Dua", category="A Lembur", received=D(2026, 7, 15, 10), gender=None, worker="Member",
		status="Rejected", stage="Rejected", workers=1,
	),
	"c5": dict(
		union="A PUK Tiga", category="A K3", received=D(2026, 8, 3, 10), gender="Female", worker="Non-member",
		status="Open", stage="Waiting on Worker", workers=3, escalated=True,
	),
	"c6": dict(
		union="A PUK Tiga", category="A Upah", received=D(2026, 8, 4, 8), gender="Male", worker="Member",
		status="Resolved", stage="Resolved", outcome="Not Resolved", responded=D(2026, 8, 4, 10),
		resolved="2026-08-20", due=D(2026, 9, 15), workers=4,
	),
}  # fmt: skip


def ensure_analytics_data() -> dict[str, str]:
	"""Create the dataset (uncommitted); return {key: case name}."""
	frappe.set_user("Administrator")
	if not frappe.db.exists("Union Sector", SECTOR):
		frappe.get_doc({"doctype": "Union Sector", "sector_name": SECTOR}).insert()
	if not frappe.db.exists("Union Holiday Calendar", CALENDAR):
		frappe.get_doc({"doctype": "Union Holiday Calendar", "calendar_name": CALENDAR}).insert()
	for employer, brands in EMPLOYERS.items():
		if not frappe.db.exists("Employer", employer):
			frappe.get_doc(
				{
					"doctype": "Employer",
					"employer_name": employer,
					"brands": [{"brand_name": brand, "relationship": "Buyer"} for brand in brands],
				}
			).insert()
	for name, parent in CATEGORIES:
		if not frappe.db.exists("Grievance Category", name):
			frappe.get_doc(
				{
					"doctype": "Grievance Category",
					"category_name": name,
					"parent_grievance_category": parent,
					"is_group": int(parent is None),
				}
			).insert()
	for union, level, parent, employer, province in TREE:
		if not frappe.db.exists("Union", union):
			frappe.get_doc(
				{
					"doctype": "Union",
					"union_name": union,
					"level": level,
					"parent_union": parent,
					"employer": employer,
					"sector": SECTOR,
					"province": province,
					"holiday_calendar": CALENDAR if parent is None else None,
				}
			).insert()
	for email, (role, union) in OFFICIALS.items():
		ensure_user(email, role, union)

	remove_analytics_cases()
	names = {}
	for key, case in CASES.items():
		doc = frappe.get_doc(
			{
				"doctype": "Grievance",
				"subject": f"A analytics case {key}",
				"owning_union": case["union"],
				"workplace_union": case["union"],
				"category": case["category"],
				"workers_affected": case["workers"],
				"received_on": case["received"],
			}
		).insert()
		names[key] = doc.name
		values = {
			"received_on": case["received"],
			"status": case["status"],
			"workflow_state": case["stage"],
			"reporter_gender": case["gender"],
			"is_anonymous": int(case["worker"] == "Anonymous"),
			"reporter_type": None if case["worker"] == "Anonymous" else case["worker"],
			"outcome": case.get("outcome"),
			"responded_on": case.get("responded"),
			"resolved_on": case.get("resolved"),
			"resolution_due_on": case.get("due"),
			"back_pay_recovered": case.get("back_pay", 0),
			"workers_benefited": case.get("benefited", 0),
			"satisfaction_rating": case.get("rating", 0),
			"is_overdue": case.get("overdue", 0),
			"paused_seconds": 0,
			"clock_paused_since": None,
		}
		frappe.db.set_value("Grievance", doc.name, values, update_modified=False)
		if case.get("escalated"):
			frappe.get_doc(
				{
					"doctype": "Grievance Escalation",
					"parent": doc.name,
					"parenttype": "Grievance",
					"parentfield": "escalations",
					"direction": "Escalated",
					"from_union": case["union"],
					"to_union": "A Cabang Dua",
					"moved_on": case["received"],
					"reason": "test",
				}
			).db_insert()
	# written past the hooks (as a bulk load is): the analytics table's rows of these cases follow, and
	# rows of cases other tests deleted past the hooks go, as the daily job would
	summary.refresh_cases(names.values())
	summary.prune(commit=False)
	return names


def remove_analytics_cases():
	"""The dataset's cases of an earlier class, if still stored: the dataset is left uncommitted for the
	class's rollback, but under `bench run-tests` on Frappe v15 mail is sent at once in process
	(frappe.flags.in_test: the new cases' assignment notices), and sending commits, so the cases outlive
	the rollback and a later class would count them twice."""
	names = frappe.get_all("Grievance", filters={"subject": ["like", "A analytics case %"]}, pluck="name")
	if not names:
		return
	for table in frappe.get_meta("Grievance").get_table_fields():
		frappe.db.delete(table.options, {"parenttype": "Grievance", "parent": ["in", names]})
	frappe.db.delete("Grievance", {"name": ["in", names]})


def forget_fixture_caches():
	"""After the class's rollback: Redis still maps the rolled-back officials' assignment rules and
	permissions, which would point later tests at rows that no longer exist."""
	from frappe.cache_manager import clear_doctype_map

	remove_analytics_cases()
	frappe.db.commit()
	clear_doctype_map("Assignment Rule", "Grievance")
	frappe.cache.delete_value("user_permissions")
	frappe.clear_cache(doctype="Grievance")


def register_cleanup(test_class):
	"""Call before super().setUpClass(): class cleanups run last-in first-out, so this runs after the
	base class's rollback."""
	test_class.addClassCleanup(forget_fixture_caches)


class AnalyticsTestCase(IntegrationTestCase):
	"""Tests on the analytics dataset: the shared tree and its officials (committed) and the known cases
	(`cls.cases`, key -> case name), removed after the class."""

	@classmethod
	def setUpClass(cls):
		register_cleanup(cls)
		super().setUpClass()
		ensure_hierarchy()  # commits the shared test tree and officials
		cls.cases = ensure_analytics_data()
