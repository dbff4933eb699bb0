"""The retention job redacts finished cases past the period, once, keeping their statistics."""

from unittest.mock import patch

import frappe
from frappe.utils import add_days, today

from unioncase.compat import IntegrationTestCase
from unioncase.privacy import retention
from unioncase.privacy.redaction import redaction_marker
from unioncase.tests.harness import changes_tracked
from unioncase.tests.hierarchy_data import ensure_hierarchy
from unioncase.tests.privacy_data import make_case, make_member

STATISTICS = (
	"kind",
	"status",
	"category",
	"severity",
	"owning_union",
	"workplace_union",
	"employer",
	"branch",
	"federation",
	"workers_affected",
	"reporter_gender",
	"outcome",
	"received_on",
	"resolved_on",
)
NAME, PHONE = "Budi Santoso Wibowo", "+6281299887766"


class TestRetention(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()

	def setUp(self):
		frappe.set_user("Administrator")
		settings = frappe.get_single("Privacy Settings")
		settings.update(
			{
				"enable_retention": 1,
				"retention_days": 365,
				"batch_size": 2,
				"redact_case_text": 1,
				"delete_case_comments": 1,
				"delete_attachments": 1,
			}
		)
		settings.save()
		# finished cases other tests left behind are settled first: each run below sees only this test's
		retention.redact_due_cases(frappe._dict(settings.as_dict(), batch_size=10_000))
		long_ago = add_days(today(), -800)
		self.due = self.named_case(status="Closed", outcome="Not Resolved", remedy=f"{NAME} got nothing")
		frappe.db.set_value("Grievance", self.due.name, "resolved_on", long_ago)
		self.rejected = self.named_case(status="Rejected")
		frappe.db.set_value(
			"Grievance", self.rejected.name, "modified", f"{long_ago} 10:00:00", update_modified=False
		)
		self.member_case = make_case(make_member().name, status="Resolved", outcome="Withdrawn", remedy="-")
		frappe.db.set_value("Grievance", self.member_case.name, "resolved_on", long_ago)
		self.recent = self.named_case(status="Closed", outcome="Not Resolved", remedy="-")
		self.still_open = self.named_case()
		frappe.db.set_value("Grievance", self.still_open.name, "received_on", f"{long_ago} 10:00:00")

	def tearDown(self):
		frappe.db.set_single_value("Privacy Settings", "enable_retention", 0)
		frappe.db.commit()

	def named_case(self, **values):
		case = make_case(
			None,
			reporter_name=NAME,
			reporter_phone="0812-1111-2222",
			reporter_email="budi.wibowo@example.org",
			description=f"{NAME} was dismissed.",
			**values,
		)
		case.reporter_phone = PHONE  # Versions keep no identity values (privacy/fields.py)...
		case.description = f"{NAME} was dismissed without notice."  # ...but do keep the case text
		with changes_tracked():
			case.save()
		case.add_comment("Comment", f"Called {NAME} back.")
		frappe.get_doc(
			{
				"doctype": "Communication",
				"communication_medium": "Email",
				"sent_or_received": "Received",
				"sender": "budi.wibowo@example.org",
				"subject": "Kasus saya",
				"content": f"Saya {NAME}",
				"reference_doctype": "Grievance",
				"reference_name": case.name,
			}
		).insert(ignore_permissions=True)
		# what Frappe writes where an admin put case subjects in global search
		frappe.db.sql(
			"insert into __global_search (doctype, name, title, content, published) values (%s, %s, %s, %s, 0)",
			("Grievance", case.name, case.subject, f"Subject : {NAME}"),
		)
		frappe.get_doc(
			{
				"doctype": "File",
				"file_name": f"ktp-{case.name}.txt",
				"content": NAME,
				"is_private": 1,
				"attached_to_doctype": "Grievance",
				"attached_to_name": case.name,
			}
		).insert(ignore_permissions=True)
		return case

	def traces(self, case: str) -> dict:
		"""Where the reporter's identity could still be found for a case."""
		refs = {"reference_doctype": "Grievance", "reference_name": case}
		versions = frappe.get_all(
			"Version", filters={"ref_doctype": "Grievance", "docname": case}, pluck="data"
		)
		return {
			"versions": [data for data in versions if NAME in data or PHONE in data],
			"comments": frappe.get_all("Comment", filters=refs),  # "Attachment Removed" names the file
			"communications": frappe.get_all("Communication", filters=refs),
			"files": frappe.get_all(
				"File", filters={"attached_to_doctype": "Grievance", "attached_to_name": case}
			),
		}

	def test_only_cases_past_the_period_are_redacted_keeping_statistics(self):
		before = {
			case.name: frappe.db.get_value("Grievance", case.name, STATISTICS, as_dict=True)
			for case in (self.due, self.rejected, self.member_case)
		}
		summary = retention.apply_retention_policy()
		self.assertGreaterEqual(summary["redacted"], 3)
		self.assertEqual(summary["failed"], 0)
		for name, statistics in before.items():
			case = frappe.get_doc("Grievance", name)
			with self.subTest(case=name):
				self.assertTrue(case.redacted_on)
				for field in ("member", "reporter_name", "reporter_phone", "reporter_email"):
					self.assertIsNone(case.get(field), field)
				for field in ("subject", "description", "remedy"):
					self.assertEqual(case.get(field), redaction_marker())
				self.assertEqual({field: case.get(field) for field in STATISTICS}, statistics)
				self.assertEqual(case.consent_text_version, self.due.consent_text_version)
				log = frappe.get_doc("Personal Data Redaction Log", {"reference_name": name})
				self.assertEqual((log.rule, log.run_id), ("Retention Policy", summary["run_id"]))
				self.assertIn("reporter_name", log.fields_redacted)
				self.assertNotIn("Budi", frappe.as_json(log.as_dict()))
		for name in (self.due.name, self.rejected.name):
			self.assertFalse(any(self.traces(name).values()), self.traces(name))
		for untouched in (self.recent, self.still_open):
			with self.subTest(case=untouched.name):
				self.assertIsNone(frappe.db.get_value("Grievance", untouched.name, "redacted_on"))
				self.assertEqual(frappe.db.get_value("Grievance", untouched.name, "reporter_name"), NAME)
				self.assertTrue(all(self.traces(untouched.name).values()))
		self.assertEqual(frappe.db.get_single_value("Privacy Settings", "last_run_id"), summary["run_id"])

	def test_a_second_run_redacts_nothing_again(self):
		retention.apply_retention_policy()
		logs = frappe.db.count("Personal Data Redaction Log", {"reference_name": self.due.name})
		again = retention.apply_retention_policy()
		self.assertEqual(again["redacted"], 0)
		self.assertEqual(
			frappe.db.count("Personal Data Redaction Log", {"reference_name": self.due.name}), logs
		)

	def test_nothing_happens_while_the_policy_is_off(self):
		frappe.db.set_single_value("Privacy Settings", "enable_retention", 0)
		self.assertIsNone(retention.apply_retention_policy())
		self.assertEqual(frappe.db.get_value("Grievance", self.due.name, "reporter_name"), NAME)

	def test_a_failed_case_is_reported_and_retried_next_run(self):
		redact = retention.redact_case

		def fail_on_due_case(case, *args, **kwargs):
			if case == self.due.name:
				frappe.db.set_value("Grievance", case, "reporter_name", None, update_modified=False)
				raise RuntimeError("disk full")
			return redact(case, *args, **kwargs)

		with patch.object(retention, "redact_case", fail_on_due_case):
			summary = retention.apply_retention_policy()
		self.assertEqual(summary["failed"], 1)
		self.assertEqual(
			frappe.db.get_value("Grievance", self.due.name, "reporter_name"), NAME
		)  # rolled back
		self.assertIsNone(frappe.db.get_value("Grievance", self.due.name, "redacted_on"))
		self.assertTrue(
			frappe.db.exists("Error Log", {"reference_doctype": "Grievance", "reference_name": self.due.name})
		)
		self.assertTrue(frappe.db.get_value("Grievance", self.rejected.name, "redacted_on"))
		retention.apply_retention_policy()
		self.assertTrue(frappe.db.get_value("Grievance", self.due.name, "redacted_on"))
