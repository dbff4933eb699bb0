"""Bad input is a translatable 4xx naming the field, never a 500, and nothing is stored.

One table, over REST on the live test server: (doctype, field, bad value, status, label the message
names). Each row posts a valid document with that one field spoiled (singles: a PUT of the field) and
checks the answer and that no row (or no change) reached the database. Then every limit in
unioncase/validation/field_limits.json is probed at its edge, in process, for every field of every
UnionCase DocType. (A request body that is not a JSON object is the runtime's: tests/test_compat.py.)
"""

import json

import frappe

from unioncase.compat import IntegrationTestCase, officials_create_unions
from unioncase.privacy.identity import IDENTITY_ROLE
from unioncase.tests.hierarchy_data import ensure_hierarchy, ensure_user
from unioncase.tests.privacy_data import ensure_role
from unioncase.tests.rest_client import RestSession
from unioncase.validation.field_limits import (
	DATE_TYPES,
	NUMBER_TYPES,
	TEXT_TYPES,
	VARCHAR_TYPES,
	field_problem,
	limit_for,
)

BRANCH = "t.branch.bogor@test.unioncase.org"  # attached to T Cabang Bogor
ADMIN = "t.admin@test.unioncase.org"
CUSTODIAN = "t.custodian.bogor@test.unioncase.org"  # a Bogor branch official with the Identity Custodian role
MISSING = object()  # the row leaves the field out
MB2 = "x" * 2_000_000

# doctype: (who posts it, a valid document; the name field gets a marker so the row can be looked for)
BASES = {
	"Grievance": (BRANCH, "subject", {"owning_union": "T Cabang Bogor", "workers_affected": 3}),
	# full_name is an identity field (permission level 1): a branch's Identity Custodian records it
	"Union Member": (CUSTODIAN, "full_name", {"workplace_union": "T PUK Bogor Satu"}),
	# an attached official creates a union below their own on v16; on v15 only an admin may (compat)
	"Union": (
		BRANCH if officials_create_unions() else ADMIN,
		"union_name",
		{"level": "Workplace Union", "parent_union": "T Cabang Bogor"},
	),
	"Employer": (ADMIN, "employer_name", {}),
	"Grievance Category": (ADMIN, "category_name", {}),
	"Grievance Tag": (BRANCH, "tag_name", {}),
	"Union Sector": (ADMIN, "sector_name", {}),
	"Grievance Deadline Policy": (
		ADMIN,
		"policy_name",
		{
			"enabled": 0,  # a disabled rule clashes with no other
			"response_target": 2,
			"response_unit": "Working Days",
			"resolution_target": 10,
			"resolution_unit": "Working Days",
			"overdue_action": "Alert",
		},
	),
	"Union Holiday Calendar": (ADMIN, "calendar_name", {"holidays": [{"holiday_date": "2026-12-25"}]}),
	"Consent Text": (
		ADMIN,
		"version",
		{"language": "en", "effective_from": "2026-01-01", "text": "<p>I agree.</p>"},
	),
}

# (doctype, field, bad value, expected status, label the message names)
BAD_INPUT = (
	("Grievance", "received_on", "not-a-date", 417, "Received On"),
	("Grievance", "received_on", "1200-01-01 10:00:00", 417, "Received On"),
	("Grievance", "incident_date", "31-02-2026", 417, "Incident Date"),
	("Grievance", "incident_date", "9999-12-31", 417, "Incident Date"),
	("Grievance", "workers_affected", -5, 417, "Workers Affected"),
	("Grievance", "workers_affected", 10**12, 417, "Workers Affected"),
	("Grievance", "workers_affected", "many", 417, "Workers Affected"),
	("Grievance", "workers_affected", 2.5, 417, "Workers Affected"),
	("Grievance", "workers_benefited", -1, 417, "Workers Benefited"),
	("Grievance", "back_pay_recovered", -100, 417, "Back Pay Recovered"),
	("Grievance", "back_pay_recovered", "1e400", 417, "Back Pay Recovered"),
	("Grievance", "satisfaction_rating", 5, 417, "Worker Satisfaction"),
	("Grievance", "description", MB2, 417, "Description"),
	("Grievance", "remedy", "x" * 2001, 417, "Remedy"),
	("Grievance", "subject", "x" * 141, 417, "Subject"),
	("Grievance", "is_anonymous", "perhaps", 417, "Anonymous"),
	("Grievance", "owning_union", MISSING, 417, "owning union"),
	("Union Member", "date_of_birth", "not-a-date", 417, "Date of Birth"),
	("Union Member", "join_date", "1800-01-01", 417, "Join Date"),
	("Union Member", "address", "x" * 2001, 417, "Address"),
	("Union", "address", MB2, 417, "Address"),
	("Employer", "workers_count", -1, 417, "Workers"),
	("Employer", "address", "x" * 2001, 417, "Address"),
	("Grievance Category", "description", MB2, 417, "Description"),
	("Grievance Tag", "description", "x" * 2001, 417, "Description"),
	("Union Sector", "description", "x" * 2001, 417, "Description"),
	("Grievance Deadline Policy", "response_target", -1, 417, "Response"),
	("Grievance Deadline Policy", "resolution_target", 10**9, 417, "Resolution"),
	("Union Holiday Calendar", "holidays", [{"holiday_date": "not-a-date"}], 417, "Holiday"),
	("Consent Text", "effective_from", "not-a-date", 417, "Effective"),
	("Consent Text", "text", "x" * 50_001, 417, "Text"),
)

# single DocTypes: (doctype, field, bad value, status, label), by PUT as a Union Administrator
BAD_SETTINGS = (
	("Intake Settings", "max_files", 10**6, 417, "Files"),
	("Intake Settings", "max_file_mb", -1, 417, "MB"),
	("Privacy Settings", "retention_days", -3, 417, "Days"),
	("Privacy Settings", "retention_days", "forever", 417, "Days"),
)


def messages(response) -> str:
	"""The text of every message the answer carries (Frappe's _server_messages and exception)."""
	body = response.json()
	texts = [
		json.loads(message).get("message", "") for message in json.loads(body.get("_server_messages") or "[]")
	]
	return " ".join([*texts, body.get("exception") or ""])


class TestBadInput(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		ensure_role(IDENTITY_ROLE)
		ensure_user(CUSTODIAN, "Branch Official", "T Cabang Bogor")
		frappe.get_doc("User", CUSTODIAN).add_roles("Branch Official", IDENTITY_ROLE)
		frappe.db.commit()
		cls.sessions = {user: RestSession(user) for user in (BRANCH, ADMIN, CUSTODIAN)}

	def post(self, user: str, doctype: str, body) -> "requests.Response":  # noqa: F821
		session = self.sessions[user]
		return session.http.post(f"{session.base}/api/resource/{doctype}", json=body, timeout=120)

	def test_every_bad_value_is_refused_naming_the_field_and_nothing_is_stored(self):
		wrong = []
		for index, (doctype, field, value, status, label) in enumerate(BAD_INPUT):
			user, name_field, base = BASES[doctype]
			marker = f"T bad input {index} {frappe.generate_hash(length=6)}"
			body = {**base, name_field: marker}
			if value is MISSING:
				body.pop(field, None)
			else:
				body[field] = value
			if field == name_field:
				marker = value
			response = self.post(user, doctype, body)
			said = messages(response)
			frappe.db.rollback()  # a fresh snapshot: read what the server committed
			stored = frappe.db.exists(doctype, {name_field: marker[:140]})
			if response.status_code != status or label.lower() not in said.lower() or stored:
				wrong.append((doctype, field, str(value)[:20], response.status_code, said[:160], stored))
		self.assertEqual(wrong, [])
		self.assertGreaterEqual(len(BAD_INPUT), 30)

	def test_a_valid_document_of_each_kind_is_stored(self):
		"""The bases above are valid: each row's refusal is that row's value, nothing else."""
		for doctype, (user, name_field, base) in BASES.items():
			marker = f"T good input {frappe.generate_hash(length=6)}"
			with self.subTest(doctype=doctype):
				response = self.post(user, doctype, {**base, name_field: marker})
				self.assertEqual(response.status_code, 200, response.text[:500])
				frappe.db.rollback()
				name = frappe.db.get_value(doctype, {name_field: marker})
				self.assertTrue(name)
				frappe.delete_doc(doctype, name, force=True, ignore_permissions=True)
				frappe.db.commit()

	def test_bad_settings_are_refused_and_nothing_changes(self):
		session = self.sessions[ADMIN]
		for doctype, field, value, status, label in BAD_SETTINGS:
			before = frappe.db.get_single_value(doctype, field)
			with self.subTest(doctype=doctype, field=field, value=value):
				response = session.put(f"/api/resource/{doctype}/{doctype}", **{field: value})
				self.assertEqual(response.status_code, status, response.text[:500])
				self.assertIn(label.lower(), messages(response).lower(), response.text[:500])
				frappe.db.rollback()
				self.assertEqual(frappe.db.get_single_value(doctype, field), before)

	def test_a_case_outside_the_officials_scope_is_still_refused(self):
		"""Fail closed: the owning union is asked for first, and the scope is checked once it is set."""
		marker = f"T outside {frappe.generate_hash(length=6)}"
		for owner in ("T Cabang Riau", "T Federasi Garmen", "T Konfederasi"):
			with self.subTest(owner=owner):
				response = self.post(BRANCH, "Grievance", {"subject": marker, "owning_union": owner})
				self.assertEqual(response.status_code, 403, response.text[:300])
		response = self.post(BRANCH, "Grievance", {"subject": marker, "owning_union": ""})
		self.assertEqual(response.status_code, 417, response.text[:300])
		self.assertIn("owning union", messages(response).lower())
		frappe.db.rollback()
		self.assertFalse(frappe.db.exists("Grievance", {"subject": marker}))

	def test_every_field_of_every_app_doctype_has_a_limit_and_it_holds_at_its_edge(self):
		"""In process: at the limit a value passes, one past it is refused (each field, each limit)."""
		doctypes = frappe.get_all(
			"DocType", filters={"module": ["in", frappe.get_module_list("unioncase")]}, pluck="name"
		)
		self.assertGreaterEqual(len(doctypes), 20)
		probed = 0
		for doctype in doctypes:
			for df in frappe.get_meta(doctype).fields:
				limit = limit_for(doctype, df)
				with self.subTest(doctype=doctype, field=df.fieldname):
					if df.fieldtype in TEXT_TYPES:
						self.assertIn("max_length", limit)
						self.assertIsNone(field_problem(doctype, df, "x" * limit["max_length"]))
						self.assertIn("{0}", field_problem(doctype, df, "x" * (limit["max_length"] + 1)))
					elif df.fieldtype in VARCHAR_TYPES:
						maximum = limit.get("max_length") or df.length or 140
						self.assertIsNone(field_problem(doctype, df, "x" * maximum))
						self.assertIn("{0}", field_problem(doctype, df, "x" * (maximum + 1)))
					elif df.fieldtype in NUMBER_TYPES:
						self.assertIn("max", limit)
						self.assertIn("min", limit)
						self.assertIsNone(field_problem(doctype, df, limit["max"]))
						self.assertIsNone(field_problem(doctype, df, limit["min"]))
						self.assertIn("{0}", field_problem(doctype, df, limit["max"] + 1))
						self.assertIn("{0}", field_problem(doctype, df, limit["min"] - 1))
						self.assertIn("{0}", field_problem(doctype, df, "NaN"))
					elif df.fieldtype in DATE_TYPES:
						self.assertIsNone(field_problem(doctype, df, limit["max"]))
						self.assertIsNone(field_problem(doctype, df, limit["min"]))
						self.assertIn("{0}", field_problem(doctype, df, "2200-01-01"))
						self.assertIn("{0}", field_problem(doctype, df, "1899-12-31"))
						self.assertIn("{0}", field_problem(doctype, df, "not-a-date"))
					else:
						continue
					probed += 1
		self.assertGreaterEqual(probed, 150)
