"""The test helpers of tests/harness.py do what they say under the flags every runner sets."""

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.tests.harness import changes_tracked, jobs_run_now
from unioncase.tests.hierarchy_data import ensure_hierarchy
from unioncase.tests.privacy_data import make_case


def changes(case: str) -> list[list]:
	return [
		row
		for data in frappe.get_all(
			"Version", filters={"ref_doctype": "Grievance", "docname": case}, pluck="data"
		)
		for row in frappe.parse_json(data).get("changed", [])
	]


class TestHarness(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()

	def setUp(self):
		frappe.set_user("Administrator")

	def test_versions_are_written_in_tests_only_where_the_test_asks(self):
		with jobs_run_now():  # the flags of `bench run-tests` (v15 and v16): Frappe skips Versions
			case = make_case(None, reporter_name="Siti R.")
			case.severity = "Critical"
			case.save()
			self.assertNotIn(["severity", "High", "Critical"], changes(case.name))
			with changes_tracked():
				case.reload()
				case.severity = "Low"
				case.save()
				case.reload()
				case.workers_affected = 3
				case.save(ignore_version=True)  # still honoured
			self.assertIn(["severity", "Critical", "Low"], changes(case.name))
			self.assertNotIn(["workers_affected", 12, 3], changes(case.name))
			case.reload()
			case.severity = "Medium"
			case.save()  # the block is over: back to Frappe's test default
			self.assertNotIn(["severity", "Low", "Medium"], changes(case.name))
