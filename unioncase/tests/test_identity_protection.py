"""The rules around workers' identities: confidential cases, masking, and what admins cannot undo."""

import json
import shutil
import subprocess
from pathlib import Path

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.privacy.confidential import SEALED
from unioncase.privacy.fields import refuse_identity_fetch
from unioncase.privacy.identity import IDENTITY_ROLE
from unioncase.privacy.masking import mask_contacts_in_text, mask_email, mask_phone
from unioncase.privacy.response import STRIP_FAULT_KEY
from unioncase.reports import summary
from unioncase.tests.hierarchy_data import ensure_hierarchy, ensure_user
from unioncase.tests.privacy_data import new_case
from unioncase.tests.rest_client import RestSession, server_url

UNION = "T PUK Bogor Dua"
CUSTODIAN = "t.custodian.rules@test.unioncase.org"
OTHER_CUSTODIAN = "t.custodian.rules.other@test.unioncase.org"
OFFICIAL = "t.branch.bogor@test.unioncase.org"
REPORTER = {"reporter_name": "Dewi Rulescase", "reporter_phone": "+6281366554433"}


def ensure_custodians():
	ensure_hierarchy()
	for email in (CUSTODIAN, OTHER_CUSTODIAN):
		ensure_user(email, "Branch Official", "T Cabang Bogor")
		frappe.get_doc("User", email).add_roles(IDENTITY_ROLE)
	frappe.db.commit()  # the live server logs them in


NOTIFICATION = "T identity notification"


class CustodiansTestCase(IntegrationTestCase):
	"""The committed test tree with its custodians; each test ends as Administrator."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_custodians()

	def tearDown(self):
		frappe.set_user("Administrator")


class TestIdentityProtection(CustodiansTestCase):
	def confidential_case(self, **values):
		frappe.set_user(CUSTODIAN)
		return new_case(
			{
				"doctype": "Grievance",
				"subject": "T rules confidential",
				"owning_union": UNION,
				"reporter_type": "Non-member",
				"is_confidential": 1,
				"identity_custodians": [{"user": CUSTODIAN}],
				**REPORTER,
				**values,
			}
		)

	def test_masking(self):
		self.assertEqual(mask_phone("+6281234567890"), "+62 812 **** 7890")
		self.assertEqual(mask_phone("0812-3456-7890"), "+62 812 **** 7890")
		self.assertEqual(mask_email("siti.rahayu@example.org"), "s****@example.org")
		self.assertEqual(mask_phone(None), "")
		self.assertEqual(
			mask_contacts_in_text("call 0812-3456-7890 or mail siti@example.org on 2026-11-23 10:00:00"),
			"call +62 812 **** 7890 or mail s****@example.org on 2026-11-23 10:00:00",
		)

	def test_a_confidential_case_keeps_its_reporter_sealed(self):
		case = self.confidential_case()
		self.assertFalse(frappe.db.get_value("Grievance", case.name, "reporter_name"))
		self.assertEqual(frappe.db.get_value(SEALED, case.name, "reporter_name"), REPORTER["reporter_name"])
		# no role reads the sealed record, not even the named custodian: only through the case
		self.assertFalse(frappe.has_permission(SEALED, "read", user=CUSTODIAN))

	def test_only_named_custodians_change_a_confidential_case(self):
		case = self.confidential_case()
		frappe.set_user(OTHER_CUSTODIAN)
		for change in (
			{"reporter_name": "Someone Else"},
			{"identity_custodians": [{"user": CUSTODIAN}, {"user": OTHER_CUSTODIAN}]},
			{"is_confidential": 0},
		):
			doc = frappe.get_doc("Grievance", case.name)
			doc.update(change)
			with self.subTest(change=change), self.assertRaises(frappe.PermissionError):
				doc.save()
		# other work on the case goes on
		frappe.get_doc("Grievance", case.name).update({"severity": "High"}).save()
		# an official without the role keeps working too, and cannot undo confidentiality
		frappe.set_user(OFFICIAL)
		frappe.get_doc("Grievance", case.name).update({"severity": "Critical"}).save()
		with self.assertRaises(frappe.PermissionError):
			frappe.get_doc("Grievance", case.name).update({"is_confidential": 0}).save()
		self.assertEqual(frappe.db.get_value(SEALED, case.name, "reporter_name"), REPORTER["reporter_name"])

	def test_a_case_sealed_at_intake_gets_its_first_custodians(self):
		case = new_case(
			{
				"doctype": "Grievance",
				"subject": "T rules sealed at intake",
				"owning_union": UNION,
				"reporter_type": "Non-member",
				"is_confidential": 1,
				**REPORTER,
			}
		)  # as Administrator: what a web form or WhatsApp intake does
		self.assertEqual(frappe.db.get_value(SEALED, case.name, "reporter_name"), REPORTER["reporter_name"])
		frappe.set_user(OFFICIAL)
		frappe.get_doc("Grievance", case.name).update({"severity": "High"}).save()
		frappe.set_user(OTHER_CUSTODIAN)
		doc = frappe.get_doc("Grievance", case.name)
		doc.append("identity_custodians", {"user": OTHER_CUSTODIAN})
		doc.save()
		frappe.set_user(CUSTODIAN)
		doc = frappe.get_doc("Grievance", case.name)
		doc.append("identity_custodians", {"user": CUSTODIAN})
		with self.assertRaises(frappe.PermissionError):
			doc.save()

	def test_a_named_custodian_lifts_confidentiality(self):
		case = self.confidential_case()
		case.reload()
		case.is_confidential = 0
		case.save()
		self.assertEqual(
			frappe.db.get_value("Grievance", case.name, "reporter_name"), REPORTER["reporter_name"]
		)
		self.assertFalse(frappe.db.exists(SEALED, case.name))

	def test_deleting_a_case_leaves_no_identity_in_the_bin(self):
		confidential = self.confidential_case()
		ordinary = self.confidential_case(is_confidential=0, identity_custodians=[])
		self.assertEqual(
			frappe.db.get_value("Grievance", ordinary.name, "reporter_name"), REPORTER["reporter_name"]
		)
		frappe.set_user("Administrator")
		confidential.delete()
		ordinary.delete()
		for doctype, name in (
			("Grievance", confidential.name),
			(SEALED, confidential.name),
			("Grievance", ordinary.name),
		):
			data = frappe.db.get_value(
				"Deleted Document", {"deleted_doctype": doctype, "deleted_name": name}, "data"
			)
			with self.subTest(doctype=doctype, name=name):
				self.assertIn(name, data)
				self.assertNotIn(REPORTER["reporter_name"], data)
				self.assertNotIn(REPORTER["reporter_phone"], data)

	def test_custodians_must_hold_the_role(self):
		with self.assertRaisesRegex(frappe.ValidationError, "Identity Custodian"):
			self.confidential_case(identity_custodians=[{"user": OFFICIAL}])

	def test_an_anonymous_report_keeps_nothing_whatever_the_path(self):
		frappe.set_user(CUSTODIAN)
		case = new_case(
			{
				"doctype": "Grievance",
				"subject": "T rules anonymous",
				"owning_union": UNION,
				"reporter_type": "Non-member",
				"is_anonymous": 1,
				"is_confidential": 1,
				**REPORTER,
			}
		)
		self.assertFalse(frappe.db.get_value("Grievance", case.name, "reporter_phone"))
		self.assertFalse(frappe.db.exists(SEALED, case.name))
		frappe.client.set_value("Grievance", case.name, "reporter_phone", REPORTER["reporter_phone"])
		self.assertFalse(frappe.db.get_value("Grievance", case.name, "reporter_phone"))

	def test_officials_without_the_role_cannot_write_identity(self):
		frappe.set_user(OFFICIAL)
		case = frappe.get_doc(
			{"doctype": "Grievance", "subject": "T rules walk-in", "owning_union": UNION, **REPORTER}
		).insert()
		self.assertFalse(frappe.db.get_value("Grievance", case.name, "reporter_name"))

	def test_admins_cannot_expose_identity_fields(self):
		for prop, value in (("permlevel", "0"), ("in_global_search", "1"), ("print_hide", "0")):
			with self.subTest(prop=prop), self.assertRaisesRegex(frappe.ValidationError, "identity"):
				frappe.make_property_setter(
					{
						"doctype": "Grievance",
						"fieldname": "reporter_phone",
						"property": prop,
						"value": value,
						"property_type": "Check" if prop != "permlevel" else "Int",
					}
				)
		with self.assertRaisesRegex(frappe.ValidationError, "identity"):
			frappe.make_property_setter(
				{
					"doctype": "Grievance",
					"fieldname": "closure_notes",
					"property": "fetch_from",
					"value": "member.phone",
					"property_type": "Small Text",
				}
			)
		# other fields stay customisable
		frappe.make_property_setter(
			{
				"doctype": "Grievance",
				"fieldname": "subject",
				"property": "in_global_search",
				"value": "1",
				"property_type": "Check",
			}
		)

	def test_custom_fields_cannot_copy_identity_out(self):
		def custom_field(fetch_from, **values):
			return frappe.get_doc(
				{
					"doctype": "Custom Field",
					"dt": "Grievance",
					"fieldname": "t_reporter_copy",
					"label": "T Reporter Copy",
					"fieldtype": "Data",
					"insert_after": "subject",
					"fetch_from": fetch_from,
					**values,
				}
			)

		for fetch_from in ("member.full_name", "member.phone", "member.member_number"):
			with (
				self.subTest(fetch_from=fetch_from),
				self.assertRaisesRegex(frappe.ValidationError, "identity"),
			):
				custom_field(fetch_from).insert()
		# at the identity level it is allowed (checked without inserting: a new column would commit)
		refuse_identity_fetch(custom_field("member.full_name", permlevel=1))

	def test_notifications_show_contacts_only_masked(self):
		def remove():
			frappe.delete_doc("Notification", NOTIFICATION, force=True, ignore_missing=True)
			frappe.db.commit()

		# it notifies on every new case: a later commit (v15 sends mail at once in tests) would keep it
		remove()
		self.addCleanup(remove)

		def notification(message):
			return frappe.get_doc(
				{
					"doctype": "Notification",
					"name": NOTIFICATION,
					"subject": "Case {{ doc.name }}",
					"document_type": "Grievance",
					"event": "New",
					"channel": "System Notification",
					"message": message,
					"recipients": [{"receiver_by_role": "Branch Official"}],
				}
			)

		for message in (
			"{{ doc.reporter_name }}",
			"Call {{ doc.reporter_phone }}",
			"{{ doc.get('member') }}",
		):
			with (
				self.subTest(message=message),
				self.assertRaisesRegex(frappe.ValidationError, "notification"),
			):
				notification(message).insert()
		notification("Reporter: {{ mask_phone(doc.reporter_phone) }}").insert()
		rendered = frappe.render_template(
			"{{ mask_phone(doc.reporter_phone) }}", {"doc": frappe._dict(REPORTER)}
		)
		self.assertEqual(rendered, "+62 813 **** 4433")

	def test_error_traces_mask_contacts(self):
		log = frappe.log_error(
			"T identity trace",
			f"failed for {REPORTER['reporter_phone']} / dewi@example.org\n"
			f"  values = {{'reporter_name': '{REPORTER['reporter_name']}', 'status': 'Open'}}\n"
			f'  full_name = "{REPORTER["reporter_name"]}"',
		)
		stored = frappe.db.get_value("Error Log", log.name, "error")
		self.assertNotIn(REPORTER["reporter_name"], stored)
		self.assertIn("'status': 'Open'", stored)
		self.assertNotIn(REPORTER["reporter_phone"], stored)
		self.assertNotIn("dewi@example.org", stored)
		self.assertIn("+62 813 **** 4433", stored)

	def test_attachments_of_members_are_private(self):
		member = frappe.get_doc(
			{"doctype": "Union Member", "full_name": "T Rules Member", "workplace_union": UNION}
		).insert()
		file = frappe.get_doc(
			{
				"doctype": "File",
				"file_name": "t-rules-ktp.txt",
				"attached_to_doctype": "Union Member",
				"attached_to_name": member.name,
				"content": "identity card",
				"is_private": 0,
			}
		).insert()
		self.assertTrue(file.is_private)
		self.assertTrue(file.file_url.startswith("/private/files/"))
		file.is_private = 0
		file.save()
		self.assertTrue(frappe.db.get_value("File", file.name, "is_private"))
		file.delete()


class TestUploads(CustodiansTestCase):
	"""Through the live server, so this class commits: it holds nothing else."""

	def test_uploads_to_a_case_are_private(self):
		case = frappe.get_doc(
			{"doctype": "Grievance", "subject": "T rules upload", "owning_union": UNION}
		).insert()
		frappe.db.commit()
		try:
			response = RestSession(CUSTODIAN).http.post(
				f"{server_url()}/api/method/upload_file",
				data={"doctype": "Grievance", "docname": case.name, "is_private": 0},
				files={"file": ("t-rules-statement.txt", b"statement of a worker")},
				timeout=60,
			)
			self.assertEqual(response.status_code, 200, response.text[:300])
			self.assertTrue(response.json()["message"]["file_url"].startswith("/private/files/"))
		finally:
			# rows deleted directly: delete_doc queues jobs that no worker takes during the tests
			for file in frappe.get_all("File", filters={"attached_to_name": case.name}, pluck="name"):
				Path(frappe.get_doc("File", file).get_full_path()).unlink(missing_ok=True)
				frappe.db.delete("File", file)
			frappe.db.delete("Grievance", case.name)
			summary.prune(commit=False)  # the analytics table forgets cases deleted past the hooks
			frappe.db.commit()


class TestIdentityQueryGuard(CustodiansTestCase):
	"""The request-level guard itself: Frappe v16 also refuses these filters, v15 does not."""

	def tearDown(self):
		super().tearDown()
		frappe.local.form_dict = frappe._dict()

	def guard(self, user: str, **form):
		from unioncase.privacy.guard import guard_identity_queries

		frappe.set_user(user)
		frappe.local.form_dict = frappe._dict(form)
		guard_identity_queries()
		return frappe.local.form_dict

	def test_identity_fields_anywhere_in_a_query_are_refused(self):
		phone = json.dumps([["Grievance", "reporter_phone", "=", "+6281366554433"]])
		for form in (
			{"doctype": "Grievance", "filters": phone},
			{"doctype": "Grievance", "filters": {"reporter_name": "Dewi"}},
			{"doctype": "Grievance", "or_filters": [["member", "is", "set"]]},
			{"doctype": "Grievance", "order_by": "`tabGrievance`.`reporter_phone` desc"},
			{"doctype": "Grievance", "group_by": "reporter_name"},
			{"doctype": "Grievance", "field": "member"},
			{"doctype": "Grievance", "searchfield": "reporter_phone", "txt": "0813"},
			{"doctype": "Union Member", "filters": [["full_name", "like", "%Dewi%"]]},
			{"doctype": "Grievance", "filters": [["member.full_name", "like", "%Dewi%"]]},
			{"doc": json.dumps({"document_type": "Grievance", "filters_json": phone}), "filters": "[]"},
			# a member's connections name the cases they reported
			{"cmd": "frappe.desk.form.linked_with.get", "doctype": "Union Member", "docname": "MBR-1"},
		):
			with self.subTest(form=form), self.assertRaises(frappe.PermissionError):
				self.guard(OFFICIAL, **form)

	def test_ordinary_queries_pass_and_identity_columns_are_dropped(self):
		form = self.guard(
			OFFICIAL,
			doctype="Grievance",
			fields=json.dumps(["name", "reporter_phone", "count(reporter_name) as n", "subject"]),
			# a value that happens to be an identity field name is data, not a field
			filters=json.dumps([["Grievance", "subject", "like", "%member%"]]),
			order_by="modified desc",
		)
		self.assertEqual(json.loads(form.fields), ["name", "subject"])

	def test_custodians_may_filter_on_identity(self):
		form = self.guard(CUSTODIAN, doctype="Grievance", filters={"reporter_phone": "+6281366554433"})
		self.assertEqual(form.filters, {"reporter_phone": "+6281366554433"})

	def refusal(self, user: str, exception, **form) -> str:
		with self.assertRaises(exception) as raised:
			self.guard(user, **form)
		return str(raised.exception)

	def test_every_spelling_of_an_identity_field_is_refused_alike(self):
		"""MariaDB matches column names whatever their case: so does the guard (8.2)."""
		spellings = (
			"reporter_phone",
			"REPORTER_PHONE",
			"Reporter_Phone",
			"`reporter_phone`",
			"`tabGrievance`.`reporter_phone`",
			"`tabGrievance`.REPORTER_PHONE",
			"tabGrievance.reporter_phone",
			"`TABGRIEVANCE`.`Reporter_Phone`",
		)
		messages = set()
		for spelling in spellings:
			for key, value in (
				("order_by", f"{spelling} desc"),
				("group_by", spelling),
				("filters", json.dumps([["Grievance", spelling, "=", "+6281366554433"]])),
				("or_filters", json.dumps([[spelling, "like", "%4433"]])),
				("filters", json.dumps({spelling: "+6281366554433"})),
				("fieldname", json.dumps([f"count({spelling}) as n"])),
				("searchfield", spelling),
			):
				with self.subTest(key=key, value=value):
					messages.add(
						self.refusal(OFFICIAL, frappe.PermissionError, doctype="Grievance", **{key: value})
					)
		for form in (
			{"doctype": "Grievance", "order_by": "MEMBER.FULL_NAME asc"},
			{"doctype": "Grievance", "filters": json.dumps([["member.Phone", "like", "%44"]])},
			{"doctype": "Grievance", "group_by": "identity_custodians.user"},
			{
				"doctype": "Grievance",
				"filters": json.dumps([["Grievance Identity Custodian", "user", "=", "x"]]),
			},
			{"doctype": "Union Member", "order_by": "`tabUnion Member`.`FULL_NAME`"},
		):
			with self.subTest(form=form):
				messages.add(self.refusal(OFFICIAL, frappe.PermissionError, **form))
		self.assertEqual(len(messages), 2, messages)  # one message for the case, one for the member
		# a selected identity column in any spelling is dropped, as Frappe drops plain ones
		form = self.guard(
			OFFICIAL, doctype="Grievance", fields=json.dumps(["name", *spellings, "member.full_name as n"])
		)
		self.assertEqual(json.loads(form.fields), ["name"])

	def test_names_that_are_no_field_are_refused_naming_them(self):
		"""8.2 and 14.12: a name outside the DocType's meta is a 4xx naming it, for custodians too."""
		for user in (OFFICIAL, CUSTODIAN):
			for key, value, named in (
				("order_by", "no_such_field desc", "no_such_field"),
				("group_by", "`tabGrievance`.`nothing`", "nothing"),
				("filters", json.dumps([["Grievance", "not_a_field", "=", 1]]), "not_a_field"),
				("filters", json.dumps({"subject; drop": 1}), "drop"),
				(
					"fields",
					json.dumps(["name", "`tabConfidential Identity`.`reporter_name`"]),
					"reporter_name",
				),
				("fields", json.dumps(["owning_union.no_such_column"]), "no_such_column"),
				("order_by", "`tabUnion`.`union_name`", "union_name"),
				# MariaDB would match these, Frappe's permission checks would not: one spelling only
				("order_by", "SUBJECT desc", "SUBJECT"),
				("group_by", "`tabgrievance`.`subject`", "tabgrievance.subject"),
				("filters", json.dumps([["Grievance", "`subject`", "like", "%T%"]]), "subject"),
			):
				with self.subTest(user=user, key=key, value=value):
					message = self.refusal(user, frappe.ValidationError, doctype="Grievance", **{key: value})
					self.assertIn(named, message)

	def test_ordinary_references_pass(self):
		form = self.guard(
			OFFICIAL,
			doctype="Grievance",
			fields=json.dumps(
				[
					"`tabGrievance`.`name`",
					"subject",
					"count(*) as n",
					"sum(`tabGrievance`.`workers_affected`) as `total`",
					"owning_union.union_name",
					"`tabGrievance`.`_assign`",
				]
			),
			filters=json.dumps(
				[
					["Grievance", "severity", "=", "High"],
					["status", "!=", "Closed"],
					["Grievance", "name", "in", ["GRV-1", "GRV-2"]],
					["workflow_state", "not in", ("Closed", "Rejected")],
				]
			),
			order_by="`tabGrievance`.`modified` DESC, creation asc",
			group_by="`tabGrievance`.`category`",
		)
		self.assertEqual(len(json.loads(form.fields)), 6)
		self.guard(OFFICIAL, doctype="Grievance", field="assigned_to", current_filters="[]")
		self.guard(
			CUSTODIAN, doctype="Grievance", order_by="reporter_phone desc", group_by="member.full_name"
		)
		# a custodian's misspelt identity field is a bad name, not a way past Frappe's checks
		message = self.refusal(
			CUSTODIAN, frappe.ValidationError, doctype="Grievance", order_by="REPORTER_PHONE"
		)
		self.assertIn("REPORTER_PHONE", message)


class TestSavedConfigurations(CustodiansTestCase):
	"""8.5: saved charts, cards, reports, boards and list settings load field names from the database."""

	def configurations(self, field: str) -> dict[str, dict]:
		plain_filter = json.dumps([["Grievance", "severity", "=", "High", False]])
		identity_filter = json.dumps([["Grievance", field, "=", "+6281366554433", False]])
		return {
			"Dashboard Chart group by": {
				"doctype": "Dashboard Chart",
				"chart_name": "T identity chart",
				"chart_type": "Group By",
				"document_type": "Grievance",
				"group_by_type": "Count",
				"group_by_based_on": field,
				"filters_json": plain_filter,
				"type": "Bar",
			},
			"Dashboard Chart filter": {
				"doctype": "Dashboard Chart",
				"chart_name": "T identity chart",
				"chart_type": "Count",
				"document_type": "Grievance",
				"based_on": "creation",
				"timeseries": 1,
				"filters_json": identity_filter,
				"type": "Line",
			},
			"Dashboard Chart aggregate": {
				"doctype": "Dashboard Chart",
				"chart_name": "T identity chart",
				"chart_type": "Sum",
				"document_type": "Grievance",
				"based_on": "creation",
				"value_based_on": field,
				"aggregate_function_based_on": field,
				"timeseries": 1,
				"filters_json": plain_filter,
				"type": "Line",
			},
			"Number Card": {
				"doctype": "Number Card",
				"label": "T identity card",
				"type": "Document Type",
				"document_type": "Grievance",
				"function": "Count",
				"filters_json": identity_filter,
			},
			"Report Builder report": {
				"doctype": "Report",
				"report_name": "T identity report",
				"ref_doctype": "Grievance",
				"report_type": "Report Builder",
				"is_standard": "No",
				"module": "UnionCase",
				"json": json.dumps(
					{
						"fields": [["name", "Grievance"], [field, "Grievance"]],
						"filters": [],
						"order_by": "modified desc",
					}
				),
			},
			"Kanban Board": {
				"doctype": "Kanban Board",
				"kanban_board_name": "T identity board",
				"reference_doctype": "Grievance",
				"field_name": "severity",
				"fields": json.dumps(["subject", field]),
			},
			"List View Settings": {
				"doctype": "List View Settings",
				"name": "Grievance",
				"fields": json.dumps([{"fieldname": "subject"}, {"fieldname": field}]),
			},
		}

	def test_saved_configurations_refuse_identity_fields(self):
		for field in ("reporter_phone", "REPORTER_PHONE", "`tabGrievance`.`reporter_phone`"):
			for path, values in self.configurations(field).items():
				for user in ("Administrator", CUSTODIAN):  # it serves everyone who opens it
					with self.subTest(path=path, field=field, user=user):
						frappe.set_user(user)
						with self.assertRaisesRegex(
							(frappe.ValidationError, frappe.PermissionError), "Identity fields of Grievance"
						):
							frappe.get_doc(values).insert(ignore_permissions=True)
						frappe.set_user("Administrator")

	def test_saved_configurations_of_ordinary_fields_save(self):
		for path, values in self.configurations("severity").items():
			with self.subTest(path=path):
				frappe.get_doc(values).insert(ignore_permissions=True)
				frappe.db.rollback()

	def test_the_report_views_saved_columns_pass_the_guard(self):
		# The report view saves its columns as [fieldname, doctype] pairs with every change of view.
		session = RestSession(OFFICIAL)

		def save(columns):
			settings = {"Report": {"fields": columns, "filters": [["Grievance", "status", "=", "Open"]]}}
			return session.post(
				"/api/method/frappe.model.utils.user_settings.save",
				doctype="Grievance",
				user_settings=json.dumps(settings),
			)

		response = save([["name", "Grievance"], ["subject", "Grievance"], ["severity", "Grievance"]])
		self.assertEqual(response.status_code, 200, response.text[:300])
		saved = frappe.parse_json(response.json()["message"])
		self.assertEqual(saved["Report"]["fields"][1], ["subject", "Grievance"])
		response = save([["name", "Grievance"], ["no_such_field", "Grievance"]])  # still fails closed
		self.assertEqual(response.status_code, 417, response.text[:300])
		self.assertIn("no_such_field", response.text)


class TestDeskMasking(IntegrationTestCase):
	def test_lists_mask_contacts_as_notifications_do(self):
		# Never skipped: scripts/lib.sh (prepare_machine) installs Node.js, and a bench has it.
		self.assertTrue(shutil.which("node"), "node is not installed: the Desk's masking cannot be checked")
		script = Path(frappe.get_app_path("unioncase", "public", "js", "masking.js")).read_text()
		phones = ["+6281234567890", "0812-3456-7890", "62 857 1234 0987", ""]
		emails = ["siti.rahayu@example.org", "not-an-email", ""]
		program = (
			"const frappe = {provide(path) { let node = globalThis;"
			" for (const key of path.split('.')) node = node[key] = node[key] || {}; }};\n"
			f"{script}\n"
			f"console.log(JSON.stringify([{json.dumps(phones)}.map(unioncase.privacy.mask_phone),"
			f" {json.dumps(emails)}.map(unioncase.privacy.mask_email)]));"
		)
		output = subprocess.run(["node", "-e", program], capture_output=True, text=True, check=True).stdout
		self.assertEqual(
			json.loads(output), [[mask_phone(p) for p in phones], [mask_email(e) for e in emails]]
		)


class TestWriteAnswers(CustodiansTestCase):
	"""Saves and workflow actions through the live server; commits, so in a class of its own."""

	def test_writes_answer_without_the_identity(self):
		case = new_case(
			{
				"doctype": "Grievance",
				"subject": "T rules write answer",
				"owning_union": "T Cabang Bogor",
				"reporter_type": "Non-member",
				**REPORTER,
			}
		)
		frappe.db.commit()  # the live server works on it
		session = RestSession(OFFICIAL)  # in scope, without the Identity Custodian role
		answers = {
			"PUT": session.put(f"/api/resource/Grievance/{case.name}", severity="High"),
			"set_value": session.post(
				"/api/method/frappe.client.set_value",
				doctype="Grievance",
				name=case.name,
				fieldname="severity",
				value="Low",
			),
			"apply_workflow": session.post(
				"/api/method/frappe.model.workflow.apply_workflow",
				doc={"doctype": "Grievance", "name": case.name},
				action="Verify",
			),
			"escalate": session.post(
				"/api/method/unioncase.workflows.escalation.escalate",
				name=case.name,
				reason="Perusahaan menolak bipartit",
			),
		}
		for path, answer in answers.items():
			with self.subTest(path=path):
				self.assertEqual(answer.status_code, 200, f"{path}: {answer.text[:300]}")
				for value in REPORTER.values():
					self.assertNotIn(value, answer.text)
		frappe.db.rollback()  # a fresh snapshot: read what the server committed
		self.assertEqual(frappe.db.get_value("Grievance", case.name, "workflow_state"), "Escalated")
		# the writes kept the identity: it is only left out of the answers
		self.assertEqual(
			frappe.db.get_value("Grievance", case.name, "reporter_name"), REPORTER["reporter_name"]
		)
		for doctype, field in (("ToDo", "reference_name"), ("Version", "docname"), ("Grievance", "name")):
			frappe.db.delete(doctype, {field: case.name})
		frappe.db.commit()

	def test_a_failed_strip_withholds_the_whole_answer(self):
		"""8.4: Frappe sends the original body when an after_request hook fails; the strip fails closed."""
		case = new_case(
			{
				"doctype": "Grievance",
				"subject": "T rules withheld answer",
				"owning_union": "T Cabang Bogor",
				"reporter_type": "Non-member",
				**REPORTER,
			}
		)
		frappe.db.commit()  # the live server works on it
		session = RestSession(OFFICIAL)
		frappe.cache.set_value(STRIP_FAULT_KEY, 1)  # the server's strip raises (a test site only)
		try:
			failed = session.put(f"/api/resource/Grievance/{case.name}", severity="High")
		finally:
			frappe.cache.delete_value(STRIP_FAULT_KEY)
		self.assertEqual(failed.status_code, 500, failed.text[:300])
		self.assertEqual(failed.json()["exc_type"], "IdentityProtectionError")
		for value in (case.name, "T rules withheld answer", *REPORTER.values()):
			self.assertNotIn(value, failed.text)
		frappe.db.rollback()  # a fresh snapshot: the write stood, only its answer was withheld
		self.assertEqual(frappe.db.get_value("Grievance", case.name, "severity"), "High")
		# the same write with a working strip answers with the document, without the identity
		answered = session.put(f"/api/resource/Grievance/{case.name}", severity="Low")
		self.assertEqual(answered.status_code, 200, answered.text[:300])
		self.assertEqual(answered.json()["data"]["severity"], "Low")
		self.assertNotIn(REPORTER["reporter_phone"], answered.text)
		for doctype, field in (("Version", "docname"), ("Grievance", "name")):
			frappe.db.delete(doctype, {field: case.name})
		frappe.db.commit()
