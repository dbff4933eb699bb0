"""No worker identity leaks: every role x every access path, on anonymous, confidential and ordinary cases.

Cases and a member carry distinctive identity values. Every official of hierarchy_data.USERS, plus an
Identity Custodian who is not named on the confidential case, hits every path through the live server
(and the in-process APIs); no response body may contain any identity value the user may not see, in
any form (E.164, national, digits only, a middle run of digits, the email's local part). Attacks (an
identity field in fields, filters, order_by, group_by, searchfield; a filter on a known phone number,
whose answer must equal one on an unknown number) are probes like the others. Positive probes (the
named custodian does see the reporter) make sure the suite can fail.
"""

import base64
import json
import re
from pathlib import Path

import frappe
from frappe.utils import add_to_date, now_datetime

from unioncase.compat import (
	LIST_DROPS_EVERY_HIDDEN_COLUMN,
	IntegrationTestCase,
	has_sms_log,
	validate_link_method,
)
from unioncase.intake import guided
from unioncase.intake import handle as handles
from unioncase.privacy import guard
from unioncase.privacy.audit import ACCESS_LOG
from unioncase.privacy.confidential import SEALED
from unioncase.privacy.identity import IDENTITY_FIELDS, IDENTITY_ROLE
from unioncase.tests.harness import changes_tracked
from unioncase.tests.hierarchy_data import (
	CASE_PREFIX,
	USERS,
	ensure_hierarchy,
	ensure_user,
	expected_unions,
	subtree,
)
from unioncase.tests.privacy_data import new_case
from unioncase.tests.rest_client import HeaderSession, RestSession, api_key_header
from unioncase.tests.sms_gateway import GATEWAY_KEY, SHARED_SECRET, SmsGateway
from unioncase.tests.sms_gateway import configure as configure_sms

UNION = "T PUK Bogor Satu"
SUBJECT_PREFIX = "T identity probe "
NAMED_CUSTODIAN = "t.custodian.named@test.unioncase.org"
OTHER_CUSTODIAN = "t.custodian.other@test.unioncase.org"
CUSTODIANS = (NAMED_CUSTODIAN, OTHER_CUSTODIAN)
UNKNOWN_PHONE = "+6281200000001"
PROBE_PRINT_FORMAT = "T Identity Probe"
# where a named custodian sees the confidential reporter (positive probes check it)
SHOWN_TO_NAMED = (
	"form getdoc, with versions, comments and attachments",
	"print, a custom Jinja format that prints every identity field",
)
OAUTH_APP = "T identity probe client"
# roles that read cases but not members (Union Member's permissions)
ROLES_WITHOUT_MEMBERS = ("Union Researcher",)
# roles that read cases but not the conversation with the worker (Case Message, Inbound Message)
ROLES_WITHOUT_CONVERSATION = ("Union Researcher",)
# intake: the cases whose worker wrote in and can be answered (a contact handle holds their email)
INTAKE_CASES = ("ordinary", "confidential", "anonymous")
REPORTER_FIELDS = list(IDENTITY_FIELDS["Grievance"])
MEMBER_FIELDS = list(IDENTITY_FIELDS["Union Member"])

# Distinctive identities; every one is a person who must stay unknown to whoever may not see them.
MEMBER = {
	"full_name": "Kartini Probewati Member",
	"phone": "+6281311223344",
	"email": "kartini.probewati@example.org",
	"national_id": "3201987654321001",
	"address": "Jalan Probewati 17, Bogor",
}
REPORTERS = {
	"ordinary": {
		"reporter_name": "Sumarni Probewati Ordinary",
		"reporter_phone": "+6285712340987",
		"reporter_email": "sumarni.probewati@example.org",
	},
	"confidential": {
		"reporter_name": "Ratna Probewati Confidential",
		"reporter_phone": "+6281377665544",
		"reporter_email": "ratna.probewati@example.org",
	},
	"anonymous": {
		"reporter_name": "Wati Probewati Anonymous",
		"reporter_phone": "+6281355443322",
		"reporter_email": "wati.probewati@example.org",
	},
}
# the ordinary reporter's phone before a correction, which only a Version could remember
OLD_ORDINARY_PHONE = "+6281288112233"


def phone_forms(phone: str) -> list[str]:
	national = phone.removeprefix("+62")
	return [phone, phone[1:], "0" + national, national, national[2:9]]


def needles(identity: dict) -> list[str]:
	found = []
	for field, value in identity.items():
		if "phone" in field:
			found += phone_forms(value)
		elif "email" in field:
			found += [value, value.split("@")[0]]
		else:
			found.append(value)
	return found


# Probes each test makes (every user x every path): the suite fails if a probe silently goes missing.
EXPECTED_PROBES = {
	"test_document_lists": 216,
	"test_documents": 382,
	"test_exports": 36,
	"test_searches": 84,
	"test_members": 60,
	"test_connections": 60,
	"test_named_custodians_stay_with_the_custodians": 30,
	"test_attacks_by_value_learn_nothing": 352,
	"test_file_of_a_confidential_case": 12,
	"test_in_process_lists": 24 if LIST_DROPS_EVERY_HIDDEN_COLUMN else 12,
	"test_token_and_bearer_clients_get_the_cookie_answers": 18,
	"test_every_role_sees_its_cases": 12,
	# + SMS (the anonymous worker also wrote by SMS): SMS Intake Settings and Frappe's SMS Log, per user
	"test_intake_paths": 108 + 2 * 12,
	"test_whatsapp_guided_paths": 132,
	# Member Broadcast (Recipient) and Intake Conversation: 15 probes + 2 attacks by value, per user
	"test_broadcast_and_conversation_paths": 17 * 12,
}
BROADCAST_PREFIX = "T identity broadcast "
RECIPIENTS = "/api/resource/Member Broadcast Recipient"
# the roles Member Broadcast (Recipient) grants read to (its DocType's permissions)
BROADCAST_ROLES = (
	"System Manager",
	"Union Administrator",
	"Confederation Official",
	"Federation Official",
	"Branch Official",
	"Workplace Union Official",
)
# WhatsApp: workers who came through the guided first contact (intake/guided.py), one named (their
# number and profile name seen by custodians only), one anonymous (the anonymous reporter: never seen)
WA_SUBJECT_PREFIX = "T identity wa "
WA_NAMED = {"reporter_name": "Suwarni Probewati WhatsApp", "reporter_phone": "+6281377001289"}
WA_WORKERS = {
	"named": ("whatsapp_named", f"{WA_SUBJECT_PREFIX}named: atasan memotong upah saya tanpa alasan"),
	"anonymous": ("anonymous", f"{WA_SUBJECT_PREFIX}anonymous: mandor mengancam pekerja yang berserikat"),
}
OK, REFUSED, NOT_FOUND, INVALID = 200, 403, 404, 417


class TestIdentityLeaks(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.tree_cases = ensure_hierarchy()
		for email in CUSTODIANS:
			ensure_user(email, "Branch Official", "T Cabang Bogor")
			frappe.get_doc("User", email).add_roles(IDENTITY_ROLE)
		remove_probe_data()
		cls.member = frappe.get_doc({"doctype": "Union Member", "workplace_union": UNION, **MEMBER}).insert()
		cls.cases = {
			"ordinary": make_case(
				"ordinary",
				reporter_type="Non-member",
				**{**REPORTERS["ordinary"], "reporter_phone": OLD_ORDINARY_PHONE},
			),
			"member": make_case("member", reporter_type="Member", member=cls.member.name),
			"confidential": make_case(
				"confidential",
				reporter_type="Non-member",
				is_confidential=1,
				identity_custodians=[{"user": NAMED_CUSTODIAN}],
				**REPORTERS["confidential"],
			),
			"anonymous": make_case(
				"anonymous", reporter_type="Non-member", is_anonymous=1, **REPORTERS["anonymous"]
			),
		}
		# later edits leave Versions behind: a corrected phone, a severity change
		with changes_tracked():
			frappe.get_doc("Grievance", cls.cases["ordinary"]).update(REPORTERS["ordinary"]).save()
			frappe.get_doc("Grievance", cls.cases["confidential"]).update({"severity": "High"}).save()
			frappe.get_doc("Grievance", cls.cases["member"]).update({"member": None}).save()
			frappe.get_doc("Grievance", cls.cases["member"]).update({"member": cls.member.name}).save()
		cls.confidential_file = frappe.get_doc(
			{
				"doctype": "File",
				"file_name": "confidential-statement.txt",
				"attached_to_doctype": "Grievance",
				"attached_to_name": cls.cases["confidential"],
				"content": "Statement of " + REPORTERS["confidential"]["reporter_name"],
				"is_private": 0,
			}
		).insert()
		if not frappe.db.exists("Print Format", PROBE_PRINT_FORMAT):
			# what a federation might write: a case sheet that prints the reporter
			frappe.get_doc(
				{
					"doctype": "Print Format",
					"name": PROBE_PRINT_FORMAT,
					"doc_type": "Grievance",
					"module": "UnionCase",
					"standard": "No",
					"custom_format": 1,
					"print_format_type": "Jinja",
					"html": "<p>{{ doc.subject }}</p>"
					+ "".join(f"<p>{{{{ doc.{field} }}}}</p>" for field in REPORTER_FIELDS)
					+ "<p>{{ mask_phone(doc.reporter_phone) }}</p>",
				}
			).insert()
		cls.sms_gateway = SmsGateway()
		configure_sms(cls.sms_gateway, UNION)
		cls.intake = make_intake_records(cls.cases, cls.sms_gateway)
		cls.wa_cases = make_whatsapp_cases()
		cls.broadcast = make_broadcast_records(cls.member.name, cls.sms_gateway)
		cls.token_clients = {
			email: api_key_header(email) for email in (NAMED_CUSTODIAN, "t.branch.bogor@test.unioncase.org")
		}
		cls.bearer_client = oauth_bearer_header(NAMED_CUSTODIAN)
		frappe.db.commit()
		cls.sessions = {email: RestSession(email) for email in (*USERS, *CUSTODIANS)}
		cls.probes = cls.leaks = 0

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		print(f"\nidentity leak probes: {cls.probes}, leaks: {cls.leaks}")
		cls.sms_gateway.stop()
		super().tearDownClass()

	def setUp(self):
		self.leaks_here = []
		self.probes_here = 0

	def tearDown(self):
		frappe.set_user("Administrator")
		# every probe of the test has run: report all its leaks and wrong answers at once
		self.assertEqual(self.leaks_here, [], "\n".join(self.leaks_here))
		expected = EXPECTED_PROBES.get(self._testMethodName)
		if expected is not None:
			self.assertEqual(self.probes_here, expected, "probes made by this test")

	# who may see what (the oracle: hierarchy_data's tree and the role table, not the code under test)
	def in_scope(self, email: str) -> bool:
		return email in CUSTODIANS or UNION in expected_unions(email)

	def reads_members(self, email: str) -> bool:
		return email in CUSTODIANS or USERS[email][0] not in ROLES_WITHOUT_MEMBERS

	def case_rows(self, email: str) -> int:
		return len(self.cases) if self.in_scope(email) else 0

	def case_status(self, email: str) -> int:
		return OK if self.in_scope(email) else REFUSED

	def identity_status(self, email: str) -> int:
		"""A query that uses an identity field: answered for custodians, refused for everyone else."""
		return OK if email in CUSTODIANS else REFUSED

	def hidden_from(self, email: str, doctype: str = "Grievance") -> list[str]:
		secret = needles(REPORTERS["confidential"]) + needles(REPORTERS["anonymous"])
		if email not in CUSTODIANS:
			secret += needles(REPORTERS["ordinary"]) + phone_forms(OLD_ORDINARY_PHONE) + needles(MEMBER)
			secret += needles(WA_NAMED)
			if doctype == "Grievance":
				# which member reported: the link itself is identity on a case
				secret.append(self.member.name)
		# the channel's secrets are for no answer at all, whoever asks
		return [*secret, SHARED_SECRET, GATEWAY_KEY]

	def check(self, email: str, path: str, answer, doctype="Grievance", status=OK, rows=None):
		"""One probe: the answer has the status (and the rows) expected, and no identity it must not."""
		type(self).probes += 1
		self.probes_here += 1
		if isinstance(answer, str):
			body = answer
		else:
			body = answer.content.decode("utf-8-sig", "replace")
			if answer.status_code != status:
				self.wrong(f"{email} {path}: status {answer.status_code}, expected {status}: {body[:300]}")
			elif rows is not None and listed(answer) not in (rows if isinstance(rows, range) else (rows,)):
				self.wrong(f"{email} {path}: {listed(answer)} rows, expected {rows}: {body[:300]}")
		found = [needle for needle in self.hidden_from(email, doctype) if needle in body]
		if found:
			self.leak(f"{email} {path}: {found} in {body[:200]}")

	def leak(self, report: str):
		type(self).leaks += 1
		self.leaks_here.append(report)

	def wrong(self, report: str):
		self.leaks_here.append(report)

	def check_same(self, email: str, path: str, known, unknown):
		"""An attack by value: the answer for a known identity equals the one for an unknown one."""
		type(self).probes += 1
		self.probes_here += 1
		if known.status_code != unknown.status_code or without_error_id(known.text) != without_error_id(
			unknown.text
		):
			self.leak(
				f"{email} {path}: a known value answered {known.text[:200]}, an unknown one {unknown.text[:200]}"
			)

	def every_user(self):
		return self.sessions.items()

	def case_names(self):
		return list(self.cases.values())

	# the REST paths
	def list_probes(self, session) -> dict:
		case_filter = [["Grievance", "subject", "like", f"{SUBJECT_PREFIX}%"]]
		identity = ["name", *REPORTER_FIELDS]
		return {
			"/api/resource *": session.get("/api/resource/Grievance", fields=["*"], filters=case_filter),
			"/api/resource identity fields": session.get(
				"/api/resource/Grievance", fields=identity, filters=case_filter
			),
			"/api/resource member.full_name join": session.get(
				"/api/resource/Grievance",
				fields=["name", "member.full_name", "member.phone"],
				filters=case_filter,
			),
			"/api/resource order_by reporter_phone": session.get(
				"/api/resource/Grievance",
				fields=["name"],
				filters=case_filter,
				order_by="reporter_phone desc",
			),
			"/api/resource order_by REPORTER_PHONE": session.get(
				"/api/resource/Grievance",
				fields=["name"],
				filters=case_filter,
				order_by="REPORTER_PHONE desc",
			),
			"/api/resource order_by `tabGrievance`.REPORTER_PHONE": session.get(
				"/api/resource/Grievance",
				fields=["name"],
				filters=case_filter,
				order_by="`tabGrievance`.REPORTER_PHONE desc",
			),
			"/api/resource filter on reporter_phone": session.get(
				"/api/resource/Grievance",
				fields=["name"],
				filters=[*case_filter, ["Grievance", "reporter_phone", "like", "%0987"]],
			),
			"/api/resource filter on `Reporter_Phone`": session.get(
				"/api/resource/Grievance",
				fields=["name"],
				filters=[*case_filter, ["Grievance", "`Reporter_Phone`", "like", "%0987"]],
			),
			"/api/v2 list identity fields": session.get(
				"/api/v2/document/Grievance", fields=identity, filters=case_filter
			),
			"frappe.client.get_list identity fields": session.post(
				"/api/method/frappe.client.get_list",
				doctype="Grievance",
				fields=identity,
				filters=case_filter,
			),
			"reportview.get identity columns": session.post(
				"/api/method/frappe.desk.reportview.get",
				doctype="Grievance",
				fields=[f"`tabGrievance`.`{field}`" for field in identity],
				filters=case_filter,
			),
			"reportview.get group_by reporter_name": session.post(
				"/api/method/frappe.desk.reportview.get",
				doctype="Grievance",
				# what the Report view's Group By sends (v15 refuses a count(*) column in reportview)
				fields=["`tabGrievance`.`reporter_name`"],
				filters=case_filter,
				group_by="`tabGrievance`.`reporter_name`",
				aggregate_function="count",
				aggregate_on_field="name",
				aggregate_on_doctype="Grievance",
			),
			"reportview.get order_by reporter_phone": session.post(
				"/api/method/frappe.desk.reportview.get",
				doctype="Grievance",
				fields=["`tabGrievance`.`name`"],
				filters=case_filter,
				order_by="`tabGrievance`.`reporter_phone` asc",
			),
			"reportview.get a Confidential Identity column": session.post(
				"/api/method/frappe.desk.reportview.get",
				doctype="Grievance",
				fields=["`tabGrievance`.`name`", "`tabConfidential Identity`.`reporter_name`"],
				filters=case_filter,
			),
			"sidebar group-by reporter_name": session.get(
				"/api/method/frappe.desk.listview.get_group_by_count",
				doctype="Grievance",
				current_filters=case_filter,
				field="reporter_name",
			),
			"sidebar group-by member": session.get(
				"/api/method/frappe.desk.listview.get_group_by_count",
				doctype="Grievance",
				current_filters=case_filter,
				field="member",
			),
			"sidebar group-by MEMBER": session.get(
				"/api/method/frappe.desk.listview.get_group_by_count",
				doctype="Grievance",
				current_filters=case_filter,
				field="MEMBER",
			),
			"Grievance Summary report": session.get(
				"/api/method/frappe.desk.query_report.run", report_name="Grievance Summary", filters={}
			),
		}

	def list_expectations(self, email: str) -> dict:
		"""(status, rows) each list probe must answer with; None rows: only the status is asserted."""
		rows, identity = self.case_rows(email), self.identity_status(email)
		by_identity = (identity, rows if identity == OK else None)
		# a misspelt identity field: refused alike for officials, a bad name (417) for custodians
		misspelt = (REFUSED if identity == REFUSED else INVALID, None)
		# custodians: the runtime joins the member's table (v15 left, v16 inner: 1 to 4 rows)
		joined = range(1, rows + 1) if email in CUSTODIANS else rows
		return {
			"/api/resource *": (OK, rows),
			"/api/resource identity fields": (OK, rows),
			"/api/resource member.full_name join": (OK, joined),
			"/api/resource order_by reporter_phone": by_identity,
			"/api/resource order_by REPORTER_PHONE": misspelt,
			"/api/resource order_by `tabGrievance`.REPORTER_PHONE": misspelt,
			# only the ordinary reporter's phone ends so (the confidential one is sealed off the case)
			"/api/resource filter on reporter_phone": (identity, 1 if identity == OK else None),
			"/api/resource filter on `Reporter_Phone`": misspelt,
			"/api/v2 list identity fields": (OK, rows),
			"frappe.client.get_list identity fields": (OK, rows),
			"reportview.get identity columns": (OK, rows),
			"reportview.get group_by reporter_name": (identity, None),
			"reportview.get order_by reporter_phone": by_identity,
			"reportview.get a Confidential Identity column": (INVALID, None),
			"sidebar group-by reporter_name": (identity, None),
			"sidebar group-by member": (identity, None),
			"sidebar group-by MEMBER": misspelt,
			"Grievance Summary report": (OK, None),
		}

	def test_document_lists(self):
		for email, session in self.every_user():
			expected = self.list_expectations(email)
			for path, response in self.list_probes(session).items():
				status, rows = expected[path]
				self.check(email, path, response, status=status, rows=rows)

	def test_documents(self):
		for email, session in self.every_user():
			case_status = self.case_status(email)
			for case in self.case_names():
				for path, response, status in (
					("/api/resource document", session.get(f"/api/resource/Grievance/{case}"), case_status),
					("/api/v2 document", session.get(f"/api/v2/document/Grievance/{case}"), case_status),
					(
						"frappe.client.get",
						session.get("/api/method/frappe.client.get", doctype="Grievance", name=case),
						case_status,
					),
					(
						"frappe.client.get_value identity",
						session.get(
							"/api/method/frappe.client.get_value",
							doctype="Grievance",
							filters={"name": case},
							fieldname=REPORTER_FIELDS,
						),
						self.identity_status(email),
					),
					(
						"form getdoc, with versions, comments and attachments",
						session.get(
							"/api/method/frappe.desk.form.load.getdoc", doctype="Grievance", name=case
						),
						case_status,
					),
					(
						"docinfo",
						session.get(
							"/api/method/frappe.desk.form.load.get_docinfo", doctype="Grievance", name=case
						),
						case_status,
					),
					(
						"print, standard format",
						session.post(
							"/api/method/frappe.www.printview.get_html_and_style",
							doc="Grievance",
							name=case,
							print_format="Standard",
						),
						case_status,
					),
					(
						"print, a custom Jinja format that prints every identity field",
						session.post(
							"/api/method/frappe.www.printview.get_html_and_style",
							doc="Grievance",
							name=case,
							print_format=PROBE_PRINT_FORMAT,
						),
						case_status,
					),
				):
					# the named custodian sees the confidential reporter in the form and in print:
					# the positive probes below check it
					if (
						email == NAMED_CUSTODIAN
						and case == self.cases["confidential"]
						and path in SHOWN_TO_NAMED
					):
						continue
					self.check(email, f"{path} ({case})", response, status=status)

	def test_exports(self):
		case_filter = [["Grievance", "subject", "like", f"{SUBJECT_PREFIX}%"]]
		for email, session in self.every_user():
			for path, response, status in (
				(
					"Report Builder CSV export",
					session.post(
						"/api/method/frappe.desk.reportview.export_query",
						doctype="Grievance",
						file_format_type="CSV",
						fields=[f"`tabGrievance`.`{field}`" for field in ("name", *REPORTER_FIELDS)],
						filters=case_filter,
					),
					OK,
				),
				(
					"Data Export tool",
					session.post(
						"/api/method/frappe.core.doctype.data_export.exporter.export_data",
						doctype="Grievance",
						select_columns={"Grievance": ["name", *REPORTER_FIELDS]},
						filters=case_filter,
						file_type="CSV",
						with_data=1,
						template="false",
					),
					self.identity_status(email),
				),
				(
					"Data Import template with records",
					session.post(
						"/api/method/frappe.core.doctype.data_import.data_import.download_template",
						doctype="Grievance",
						export_fields={"Grievance": ["name", *REPORTER_FIELDS]},
						export_records="by_filter",
						export_filters=case_filter,
						file_type="CSV",
					),
					self.identity_status(email),
				),
			):
				self.check(email, path, response, status=status)

	def test_searches(self):
		for email, session in self.every_user():
			member_status = OK if self.reads_members(email) else REFUSED
			for text in (MEMBER["full_name"], MEMBER["phone"], REPORTERS["ordinary"]["reporter_phone"]):
				self.check(
					email,
					f"global search {text[:6]}",
					session.get("/api/method/frappe.utils.global_search.search", text=text),
				)
				self.check(
					email,
					f"member link search {text[:6]}",
					session.get(
						"/api/method/frappe.desk.search.search_link", doctype="Union Member", txt=text
					),
					doctype="Union Member",
					status=member_status,
				)
			self.check(
				email,
				"case link search by searchfield=reporter_phone",
				session.get(
					"/api/method/frappe.desk.search.search_link",
					doctype="Grievance",
					txt=REPORTERS["ordinary"]["reporter_phone"],
					searchfield="reporter_phone",
				),
				status=self.identity_status(email),
			)

	def test_members(self):
		member_filter = [["Union Member", "name", "=", self.member.name]]
		validate_link, fields_argument = validate_link_method()
		for email, session in self.every_user():
			if email in CUSTODIANS:
				continue  # custodians may see members' identities
			readable = self.reads_members(email) and self.in_scope(email)
			listed_status = OK if self.reads_members(email) else REFUSED
			rows = (1 if readable else 0) if listed_status == OK else None
			document_status = OK if readable else REFUSED
			for path, response, status, expected_rows in (
				(
					"member list *",
					session.get("/api/resource/Union Member", fields=["*"], filters=member_filter),
					listed_status,
					rows,
				),
				(
					"member list identity fields",
					session.get(
						"/api/resource/Union Member", fields=["name", *MEMBER_FIELDS], filters=member_filter
					),
					listed_status,
					rows,
				),
				(
					"member document",
					session.get(f"/api/resource/Union Member/{self.member.name}"),
					document_status,
					None,
				),
				(
					"link validation fetching member fields (the form's fetch_from)",
					session.get(
						f"/api/method/{validate_link}",
						doctype="Union Member",
						docname=self.member.name,
						**{fields_argument: MEMBER_FIELDS},
					),
					listed_status,  # out of scope: an empty answer
					None,
				),
				(
					"member form getdoc",
					session.get(
						"/api/method/frappe.desk.form.load.getdoc",
						doctype="Union Member",
						name=self.member.name,
					),
					document_status,
					None,
				),
				(
					"member print",
					session.post(
						"/api/method/frappe.www.printview.get_html_and_style",
						doc="Union Member",
						name=self.member.name,
						print_format="Standard",
					),
					document_status,
					None,
				),
			):
				self.check(email, path, response, doctype="Union Member", status=status, rows=expected_rows)

	def test_connections(self):
		"""A member's connections must not name the cases they reported, nor a case its sealed reporter."""
		for email, session in self.every_user():
			linked = session.get(
				"/api/method/frappe.desk.form.linked_with.get",
				doctype="Union Member",
				docname=self.member.name,
			)
			self.check(
				email,
				"member connections",
				linked,
				doctype="Union Member",
				status=self.identity_status(email),
			)
			if email not in CUSTODIANS and self.cases["member"] in linked.text:
				self.leak(f"{email} member connections: name the member's case")
			for case in self.case_names():
				self.check(
					email,
					f"case connections ({case})",
					session.get(
						"/api/method/frappe.desk.form.linked_with.get", doctype="Grievance", docname=case
					),
					status=self.case_status(email),
				)

	def test_named_custodians_stay_with_the_custodians(self):
		"""Who may see a confidential reporter is itself behind the identity level."""
		for email, session in self.every_user():
			if email in CUSTODIANS:
				continue
			for path, response, status in (
				(
					"custodian table listed as a child doctype",
					session.post(
						"/api/method/frappe.client.get_list",
						doctype="Grievance Identity Custodian",
						parent="Grievance",
						fields=["user", "parent"],
					),
					REFUSED,
				),
				(
					"custodian column in Report Builder (dropped)",
					session.post(
						"/api/method/frappe.desk.reportview.get",
						doctype="Grievance",
						fields=["`tabGrievance`.`name`", "`tabGrievance Identity Custodian`.`user`"],
						filters=[["Grievance", "subject", "like", f"{SUBJECT_PREFIX}%"]],
					),
					OK,
				),
				(
					"filter on the custodian table",
					session.get(
						"/api/resource/Grievance",
						fields=["name"],
						filters=[["Grievance Identity Custodian", "user", "like", "%custodian%"]],
					),
					REFUSED,
				),
			):
				rows = self.case_rows(email) if status == OK else None
				self.check(email, path, response, status=status, rows=rows)
				# a filter on the table must not single out the confidential case either
				singled_out = path.startswith("filter") and self.cases["confidential"] in response.text
				if NAMED_CUSTODIAN in response.text or singled_out:
					self.leak(f"{email} {path}: names the confidential case's custodian")

	def test_attacks_by_value_learn_nothing(self):
		"""Filtering on a phone number someone knows answers exactly as for a number nobody has."""
		for email, session in self.every_user():
			secret_phones = [REPORTERS["confidential"]["reporter_phone"]]
			if email not in CUSTODIANS:
				secret_phones.append(REPORTERS["ordinary"]["reporter_phone"])

			def by_phone(phone, session=session):
				grievance = [["Grievance", "reporter_phone", "=", phone]]
				return {
					"/api/resource filter": session.get(
						"/api/resource/Grievance", fields=["name"], filters=grievance
					),
					"/api/v2 filter": session.get("/api/v2/document/Grievance", filters=grievance),
					"/api/v2 count": session.get("/api/v2/doctype/Grievance/count", filters=grievance),
					"reportview.get_count filter": session.get(
						"/api/method/frappe.desk.reportview.get_count", doctype="Grievance", filters=grievance
					),
					"frappe.client.get_count filter": session.get(
						"/api/method/frappe.client.get_count", doctype="Grievance", filters=grievance
					),
					"frappe.client.get_value by phone": session.get(
						"/api/method/frappe.client.get_value",
						doctype="Grievance",
						filters={"reporter_phone": phone},
						fieldname="name",
					),
					"number card on phone": session.post(
						"/api/method/frappe.desk.doctype.number_card.number_card.get_result",
						doc=json.dumps(
							{
								"document_type": "Grievance",
								"function": "Count",
								"filters_json": json.dumps(grievance),
							}
						),
						filters=grievance,
					),
					"member filter on phone": session.get(
						"/api/resource/Union Member",
						filters=[["Union Member", "phone", "like", f"%{phone[-6:]}%"]],
					),
				}

			unknown = by_phone(UNKNOWN_PHONE)
			status = self.identity_status(email)
			for phone in secret_phones:
				for path, response in by_phone(phone).items():
					self.check_same(email, path, response, unknown[path])
					# custodians may look members up by phone: only the sealed reporter's phone is secret
					self.check(email, path, response, status=status)

	def test_file_of_a_confidential_case(self):
		self.assertTrue(self.confidential_file.is_private, "attachments of cases are private files")
		for email, session in self.every_user():
			response = session.get(self.confidential_file.file_url)
			if email == NAMED_CUSTODIAN:
				self.probes_here += 1
				type(self).probes += 1
				self.assertEqual(response.status_code, OK)
				self.assertIn(REPORTERS["confidential"]["reporter_name"], response.text)
				continue
			self.check(email, "confidential case's file", response, status=REFUSED)

	def test_token_and_bearer_clients_get_the_cookie_answers(self):
		"""8.3: an API-key or OAuth client is the same user as a cookie session, to every guard."""
		clients = [(email, "token", header) for email, header in self.token_clients.items()]
		clients.append((NAMED_CUSTODIAN, "bearer", self.bearer_client))
		ordinary = self.cases["ordinary"]
		for email, kind, header in clients:
			cookie, client = self.sessions[email], HeaderSession(header)
			expected = self.list_expectations(email)
			for path in (
				"/api/resource identity fields",
				"/api/resource order_by REPORTER_PHONE",
				"/api/resource filter on reporter_phone",
				"reportview.get identity columns",
				"sidebar group-by member",
			):
				answer, cookie_answer = self.list_probes(client)[path], self.list_probes(cookie)[path]
				status, rows = expected[path]
				self.check(email, f"{kind} {path}", answer, status=status, rows=rows)
				self.assertEqual(answer.status_code, cookie_answer.status_code, f"{kind} {path}")
				self.assertEqual(without_error_id(answer.text), without_error_id(cookie_answer.text))
			document = client.get(f"/api/resource/Grievance/{ordinary}")
			self.check(email, f"{kind} document", document, status=OK)
			self.assertEqual(document.json(), cookie.get(f"/api/resource/Grievance/{ordinary}").json())
		# the custodian's token does read the ordinary reporter: the clients are not simply refused
		token = HeaderSession(self.token_clients[NAMED_CUSTODIAN])
		self.assertIn(
			REPORTERS["ordinary"]["reporter_phone"], token.get(f"/api/resource/Grievance/{ordinary}").text
		)
		bearer = HeaderSession(self.bearer_client)
		self.assertIn(
			REPORTERS["ordinary"]["reporter_phone"], bearer.get(f"/api/resource/Grievance/{ordinary}").text
		)
		# a wrong secret is refused as Frappe refuses it, not answered as Guest
		wrong = HeaderSession(self.token_clients[NAMED_CUSTODIAN].rsplit(":", 1)[0] + ":wrong")
		self.assertEqual(wrong.get("/api/resource/Grievance", fields=["name"]).status_code, 401)

	# positive probes: what the suite must see, or it could not fail
	def test_every_role_sees_its_cases(self):
		"""Every user lists exactly the test tree's cases of their part of the hierarchy."""
		for email, session in self.every_user():
			unions = subtree("T Cabang Bogor") if email in CUSTODIANS else expected_unions(email)
			expected = sorted(self.tree_cases[union] for union in unions if union in self.tree_cases)
			response = session.get(
				"/api/resource/Grievance",
				fields=["name"],
				filters=[["Grievance", "subject", "like", f"{CASE_PREFIX}%"]],
				limit_page_length=0,
			)
			self.check(email, "the tree's cases", response, status=OK, rows=len(expected))
			if response.status_code == OK:
				self.assertEqual(sorted(row["name"] for row in response.json()["data"]), expected, email)

	def test_named_custodian_sees_the_confidential_reporter_and_is_logged(self):
		case = self.cases["confidential"]
		frappe.db.commit()
		before = frappe.db.count(ACCESS_LOG, {"reference_name": case, "user": NAMED_CUSTODIAN})
		form = self.sessions[NAMED_CUSTODIAN].get(
			"/api/method/frappe.desk.form.load.getdoc", doctype="Grievance", name=case
		)
		for value in REPORTERS["confidential"].values():
			self.assertIn(value, form.text)
		printed = self.sessions[NAMED_CUSTODIAN].post(
			"/api/method/frappe.www.printview.get_html_and_style",
			doc="Grievance",
			name=case,
			print_format=PROBE_PRINT_FORMAT,
		)
		self.assertIn(REPORTERS["confidential"]["reporter_name"], printed.json()["message"]["html"])
		frappe.db.commit()  # a fresh snapshot: the server wrote the log
		logged = frappe.get_all(
			ACCESS_LOG, filters={"reference_name": case, "user": NAMED_CUSTODIAN}, pluck="action"
		)
		self.assertEqual(len(logged) - before, 2, logged)
		self.assertEqual(set(logged), {"View", "Print"})
		# the other custodian opening the same form sees no reporter, and nothing is logged for them
		self.sessions[OTHER_CUSTODIAN].get(
			"/api/method/frappe.desk.form.load.getdoc", doctype="Grievance", name=case
		)
		frappe.db.commit()
		self.assertFalse(frappe.db.exists(ACCESS_LOG, {"reference_name": case, "user": OTHER_CUSTODIAN}))

	def test_officials_without_the_role_still_work_the_case(self):
		session = self.sessions["t.branch.bogor@test.unioncase.org"]
		for case in self.case_names():
			form = session.get("/api/method/frappe.desk.form.load.getdoc", doctype="Grievance", name=case)
			self.assertEqual(form.status_code, 200)
			self.assertIn(SUBJECT_PREFIX, form.text)
			# saving the form as loaded (identity fields absent) keeps the case and its reporter
			doc = form.json()["docs"][0]
			saved = session.post(
				"/api/method/frappe.desk.form.save.savedocs", doc=json.dumps(doc), action="Save"
			)
			self.assertEqual(saved.status_code, 200, saved.text[:300])
		frappe.db.commit()  # a fresh snapshot: the server saved the cases
		self.assertEqual(
			frappe.db.get_value("Grievance", self.cases["ordinary"], "reporter_phone"),
			REPORTERS["ordinary"]["reporter_phone"],
		)
		self.assertEqual(frappe.db.get_value("Grievance", self.cases["member"], "member"), self.member.name)
		self.assertEqual(
			frappe.db.get_value(SEALED, self.cases["confidential"], "reporter_phone"),
			REPORTERS["confidential"]["reporter_phone"],
		)
		printed = session.post(
			"/api/method/frappe.www.printview.get_html_and_style",
			doc="Grievance",
			name=self.cases["ordinary"],
		)
		self.assertIn(SUBJECT_PREFIX, printed.json()["message"]["html"])
		listed = session.get(
			"/api/resource/Grievance",
			fields=["name", "reporter_phone"],
			filters=[["Grievance", "subject", "like", f"{SUBJECT_PREFIX}%"]],
		).json()["data"]
		self.assertEqual(len(listed), len(self.cases))
		self.assertTrue(all("reporter_phone" not in row for row in listed))

	def test_custodians_see_ordinary_identities(self):
		session = self.sessions[OTHER_CUSTODIAN]
		document = session.get(f"/api/resource/Grievance/{self.cases['ordinary']}").text
		self.assertIn(REPORTERS["ordinary"]["reporter_phone"], document)
		found = session.get(
			"/api/resource/Grievance",
			filters=[["Grievance", "reporter_phone", "=", REPORTERS["ordinary"]["reporter_phone"]]],
		).json()["data"]
		self.assertEqual([row["name"] for row in found], [self.cases["ordinary"]])
		printed = session.post(
			"/api/method/frappe.www.printview.get_html_and_style",
			doc="Grievance",
			name=self.cases["ordinary"],
			print_format=PROBE_PRINT_FORMAT,
		).json()["message"]["html"]
		self.assertIn(REPORTERS["ordinary"]["reporter_name"], printed)
		self.assertIn("+62 857 **** 0987", printed, "the Jinja method masks the phone")
		member = session.get(f"/api/resource/Union Member/{self.member.name}").json()["data"]
		self.assertEqual(member["full_name"], MEMBER["full_name"])

	# what is stored
	def test_nothing_identifying_is_stored_where_it_could_leak(self):
		versions = frappe.get_all(
			"Version",
			filters={"ref_doctype": "Grievance", "docname": ["in", self.case_names()]},
			pluck="data",
		)
		self.assertTrue(any("reporter_phone" in data for data in versions), "the change itself is recorded")
		every_secret = needles(REPORTERS["ordinary"]) + phone_forms(OLD_ORDINARY_PHONE) + [self.member.name]
		for data in versions:
			self.assertFalse([n for n in every_secret if n in data], data)
		anonymous = frappe.db.get_value("Grievance", self.cases["anonymous"], REPORTER_FIELDS, as_dict=True)
		self.assertFalse(any(anonymous.values()), "an anonymous case keeps no identity")
		self.assertFalse(frappe.db.exists(SEALED, self.cases["anonymous"]))
		confidential = frappe.db.get_value(
			"Grievance", self.cases["confidential"], REPORTER_FIELDS, as_dict=True
		)
		self.assertFalse(any(confidential.values()), "a confidential case keeps its reporter off the case")
		sealed = frappe.db.get_value(SEALED, self.cases["confidential"], "reporter_phone")
		self.assertEqual(sealed, REPORTERS["confidential"]["reporter_phone"])

	def test_in_process_lists(self):
		"""9.4: the app's own lists (privacy.guard.get_list) keep identity from whoever runs them."""
		fields = ["name", *REPORTER_FIELDS, "subject"]
		case_filter = [["Grievance", "subject", "like", f"{SUBJECT_PREFIX}%"]]
		lists = {"privacy.guard.get_list": guard.get_list}
		if LIST_DROPS_EVERY_HIDDEN_COLUMN:  # v15's own get_list keeps some (compat.py)
			lists["frappe.get_list"] = frappe.get_list
		for email in (*USERS, *CUSTODIANS):
			for path, get_list in lists.items():
				frappe.set_user(email)
				rows = get_list("Grievance", fields=fields, filters=case_filter)
				frappe.set_user("Administrator")
				self.probes_here += 1
				type(self).probes += 1
				if len(rows) != self.case_rows(email):
					self.wrong(f"{email} {path}: {len(rows)} rows, expected {self.case_rows(email)}")
				found = [n for n in self.hidden_from(email) if n in frappe.as_json(rows)]
				if found:
					self.leak(f"{email} {path}: {found}")
		frappe.set_user("t.branch.bogor@test.unioncase.org")
		for query in (
			{"order_by": "REPORTER_PHONE desc"},
			{"filters": [["Grievance", "reporter_phone", "=", REPORTERS["ordinary"]["reporter_phone"]]]},
			{"group_by": "`tabGrievance`.`member`"},
		):
			with self.subTest(query=query), self.assertRaises(frappe.PermissionError):
				guard.get_list("Grievance", fields=["name"], **query)
		frappe.set_user(NAMED_CUSTODIAN)
		found = guard.get_list(
			"Grievance",
			fields=["name", "reporter_phone"],
			filters=[["Grievance", "reporter_phone", "=", REPORTERS["ordinary"]["reporter_phone"]]],
		)
		self.assertEqual(
			found,
			[{"name": self.cases["ordinary"], "reporter_phone": REPORTERS["ordinary"]["reporter_phone"]}],
		)

	def test_intake_paths(self):
		"""The conversation, the inbox, the contact handles and the queued mail to workers."""
		in_cases = [["grievance", "in", self.case_names()]]
		sms_log = has_sms_log()
		for email, session in self.every_user():
			reads = self.in_scope(email) and USERS.get(email, ("",))[0] not in ROLES_WITHOUT_CONVERSATION
			role_reads = USERS.get(email, ("",))[0] not in ROLES_WITHOUT_CONVERSATION
			for kind, case in self.cases.items():
				self.check(
					email,
					f"conversation of the {kind} case",
					session.get("/api/method/unioncase.intake.conversation.get_conversation", case=case),
					status=OK if reads else REFUSED,
				)
			for doctype, rows in (
				("Case Message", self.intake["case_messages"]),
				("Inbound Message", self.intake["inbound_messages"]),
			):
				self.check(
					email,
					f"{doctype} list *",
					session.get(
						f"/api/resource/{doctype}", fields=["*"], filters=in_cases, limit_page_length=0
					),
					doctype=doctype,
					status=OK if role_reads else REFUSED,
					rows=(rows if reads else 0) if role_reads else None,
				)
			self.check(
				email,
				"Inbound Message document of the anonymous case",
				session.get(f"/api/resource/Inbound Message/{self.intake['anonymous_inbound']}"),
				doctype="Inbound Message",
				status=OK if reads else REFUSED,
			)
			system_manager = USERS.get(email, ("",))[0] == "System Manager"
			self.check(
				email,
				"Contact Handle list *",
				session.get("/api/resource/Contact Handle", fields=["*"], limit_page_length=0),
				doctype="Contact Handle",
				status=OK if system_manager else REFUSED,
			)
			settings_reader = USERS.get(email, ("",))[0] in ("System Manager", "Union Administrator")
			self.check(
				email,
				"SMS Intake Settings document (secrets, routing)",
				session.get("/api/resource/SMS Intake Settings/SMS Intake Settings"),
				doctype="SMS Intake Settings",
				status=OK if settings_reader else REFUSED,
			)
			# a site without Frappe's SMS Log (v15 without ERPNext) answers 404, and still nothing leaks
			self.check(
				email,
				"SMS Log list * (Frappe's log of numbers: SMS intake never writes it)",
				session.get("/api/resource/SMS Log", fields=["*"], limit_page_length=0),
				doctype="SMS Log",
				status=(OK if system_manager else REFUSED) if sms_log else NOT_FOUND,
				rows=None,
			)
			self.check(
				email,
				"Email Queue list *, the replies to the workers",
				session.get(
					"/api/resource/Email Queue",
					fields=["*"],
					filters=[["reference_name", "in", self.intake["replies"]]],
					limit_page_length=0,
				),
				doctype="Email Queue",
				status=OK if system_manager else REFUSED,
				rows=0 if system_manager else None,
			)

	def test_whatsapp_guided_paths(self):
		"""The guided first contact's cases: the document, lists with identity and pseudonym, the
		conversation, the case messages, the guided conversation's state and the handles."""
		named, anonymous = self.wa_cases["named"], self.wa_cases["anonymous"]
		wa_filter = [["Grievance", "subject", "like", f"{WA_SUBJECT_PREFIX}%"]]
		for email, session in self.every_user():
			role = USERS.get(email, ("",))[0]
			reads = self.in_scope(email) and role not in ROLES_WITHOUT_CONVERSATION
			system_manager = role == "System Manager"
			for kind, case in self.wa_cases.items():
				self.check(
					email,
					f"WhatsApp {kind} case document",
					session.get(f"/api/resource/Grievance/{case}"),
					status=self.case_status(email),
				)
				self.check(
					email,
					f"WhatsApp {kind} case form getdoc",
					session.get("/api/method/frappe.desk.form.load.getdoc", doctype="Grievance", name=case),
					status=self.case_status(email),
				)
				self.check(
					email,
					f"conversation of the WhatsApp {kind} case",
					session.get("/api/method/unioncase.intake.conversation.get_conversation", case=case),
					status=OK if reads else REFUSED,
				)
			rows = 2 if self.in_scope(email) else 0
			self.check(
				email,
				"WhatsApp cases list *",
				session.get("/api/resource/Grievance", fields=["*"], filters=wa_filter),
				rows=rows,
			)
			self.check(
				email,
				"WhatsApp cases reportview with pseudonym and identity columns",
				session.post(
					"/api/method/frappe.desk.reportview.get",
					doctype="Grievance",
					fields=[
						f"`tabGrievance`.`{field}`"
						for field in ("name", "reporter_pseudonym", *REPORTER_FIELDS)
					],
					filters=wa_filter,
				),
				rows=rows,
			)
			self.check(
				email,
				"WhatsApp cases' Case Message list *",
				session.get(
					"/api/resource/Case Message",
					fields=["*"],
					filters=[["grievance", "in", [named, anonymous]]],
					limit_page_length=0,
				),
				doctype="Case Message",
				status=OK if role not in ROLES_WITHOUT_CONVERSATION else REFUSED,
			)
			self.check(
				email,
				"Intake Conversation list *",
				session.get("/api/resource/Intake Conversation", fields=["*"], limit_page_length=0),
				doctype="Intake Conversation",
				status=OK if system_manager else REFUSED,
			)
			self.check(
				email,
				"Contact Handle list * of the WhatsApp cases",
				session.get(
					"/api/resource/Contact Handle",
					fields=["*"],
					filters=[["grievance", "in", [named, anonymous]]],
					limit_page_length=0,
				),
				doctype="Contact Handle",
				status=OK if system_manager else REFUSED,
			)
		# the suite can fail: the custodian does see the named worker's number and name
		seen = self.sessions[NAMED_CUSTODIAN].get(f"/api/resource/Grievance/{named}").json()["data"]
		self.assertEqual(seen["reporter_phone"], WA_NAMED["reporter_phone"])
		self.assertEqual(seen["reporter_name"], WA_NAMED["reporter_name"])
		self.assertTrue(seen["reporter_pseudonym"].startswith("WA-"))
		official = self.sessions["t.branch.bogor@test.unioncase.org"].get(
			f"/api/resource/Grievance/{anonymous}"
		)
		self.assertTrue(
			official.json()["data"]["reporter_pseudonym"].startswith("WA-"), "a pseudonym instead"
		)

	def test_broadcast_and_conversation_paths(self):
		"""Member Broadcast Recipient (a member per row: their number must never come with it) and Intake
		Conversation (a keyed hash, no number) on every path: lists, joins, documents, reports, group-by
		counts, searches, exports, and counts by a known number."""
		name = self.broadcast
		recipient = frappe.db.get_value("Member Broadcast Recipient", {"broadcast": name})
		conv = frappe.db.get_value(guided.CONVERSATION, {"grievance": self.wa_cases["anonymous"]})
		by_broadcast = [["Member Broadcast Recipient", "broadcast", "=", name]]
		member_identity = [f"member.{field}" for field in ("full_name", "phone", "email", "national_id")]
		for email, session in self.every_user():
			role = USERS.get(email, ("Branch Official",))[0]  # the custodians are Bogor's branch officials
			broadcasts = role in BROADCAST_ROLES
			in_scope = broadcasts and (
				role in ("System Manager", "Union Administrator") or self.in_scope(email)
			)
			listed_status = OK if broadcasts else REFUSED
			rows = (1 if in_scope else 0) if broadcasts else None
			document_status = OK if in_scope else REFUSED
			system_manager = role == "System Manager"
			conversation_status = OK if system_manager else REFUSED
			recipient_paths = (
				(
					"Recipient list *",
					session.get(RECIPIENTS, fields=["*"], filters=by_broadcast),
					listed_status,
					rows,
				),
				(
					"Recipient list joined to the member's identity",
					session.get(RECIPIENTS, fields=["name", *member_identity], filters=by_broadcast),
					None,
					None,
				),
				(
					"Recipient reportview with Union Member columns",
					session.post(
						"/api/method/frappe.desk.reportview.get",
						doctype="Member Broadcast Recipient",
						fields=[
							"`tabMember Broadcast Recipient`.`name`",
							"`tabMember Broadcast Recipient`.`error`",
							*(f"`tabUnion Member`.`{f}`" for f in ("full_name", "phone")),
						],
						filters=by_broadcast,
					),
					None,
					None,
				),
				(
					"Recipient Report Builder CSV export with the member's identity",
					session.post(
						"/api/method/frappe.desk.reportview.export_query",
						doctype="Member Broadcast Recipient",
						file_format_type="CSV",
						fields=[
							"`tabMember Broadcast Recipient`.`name`",
							"`tabMember Broadcast Recipient`.`error`",
						],
						filters=by_broadcast,
					),
					None,
					None,
				),
				(
					"Recipient document",
					session.get(f"{RECIPIENTS}/{recipient}"),
					document_status,
					None,
				),
				(
					"Recipient form getdoc (link titles)",
					session.get(
						"/api/method/frappe.desk.form.load.getdoc",
						doctype="Member Broadcast Recipient",
						name=recipient,
					),
					document_status,
					None,
				),
				(
					"Member Broadcast form getdoc",
					session.get(
						"/api/method/frappe.desk.form.load.getdoc", doctype="Member Broadcast", name=name
					),
					document_status,
					None,
				),
				(
					"Recipient sidebar group-by member",
					session.get(
						"/api/method/frappe.desk.listview.get_group_by_count",
						doctype="Member Broadcast Recipient",
						current_filters=by_broadcast,
						field="member",
					),
					None,
					None,
				),
				(
					"Recipient link search by the member's number",
					session.get(
						"/api/method/frappe.desk.search.search_link",
						doctype="Member Broadcast Recipient",
						txt=MEMBER["phone"],
					),
					None,
					None,
				),
			)
			for path, answer, status, expected_rows in recipient_paths:
				self.check(
					email,
					path,
					answer,
					doctype="Member Broadcast Recipient",
					status=answer.status_code if status is None else status,
					rows=expected_rows,
				)
			for path, answer in (
				(
					"Intake Conversation document",
					session.get(f"/api/resource/{guided.CONVERSATION}/{conv}"),
				),
				(
					"Intake Conversation form getdoc",
					session.get(
						"/api/method/frappe.desk.form.load.getdoc", doctype=guided.CONVERSATION, name=conv
					),
				),
				(
					"Intake Conversation reportview *",
					session.post(
						"/api/method/frappe.desk.reportview.get",
						doctype=guided.CONVERSATION,
						fields=[
							f"`tab{guided.CONVERSATION}`.`{f}`" for f in ("name", "address_hash", "answers")
						],
					),
				),
				(
					"Intake Conversation CSV export",
					session.post(
						"/api/method/frappe.desk.reportview.export_query",
						doctype=guided.CONVERSATION,
						file_format_type="CSV",
						fields=[
							f"`tab{guided.CONVERSATION}`.`{f}`" for f in ("name", "address_hash", "answers")
						],
					),
				),
				(
					"Intake Conversation sidebar group-by contact handle",
					session.get(
						"/api/method/frappe.desk.listview.get_group_by_count",
						doctype=guided.CONVERSATION,
						current_filters=[],
						field="contact_handle",
					),
				),
				(
					"Intake Conversation global search by number",
					session.get(
						"/api/method/frappe.utils.global_search.search",
						text=REPORTERS["anonymous"]["reporter_phone"],
						doctype=guided.CONVERSATION,
					),
				),
			):
				status = conversation_status if "search" not in path else OK
				self.check(email, path, answer, doctype=guided.CONVERSATION, status=status)

			# by value: counting recipients (or conversations) by a number someone knows learns nothing
			def count(doctype, filters, session=session):
				return session.get("/api/method/frappe.client.get_count", doctype=doctype, filters=filters)

			self.check_same(
				email,
				"Recipient count by the member's phone",
				count("Member Broadcast Recipient", [["Union Member", "phone", "=", MEMBER["phone"]]]),
				count("Member Broadcast Recipient", [["Union Member", "phone", "=", UNKNOWN_PHONE]]),
			)
			if not system_manager:
				known = handles.address_hash(REPORTERS["anonymous"]["reporter_phone"])
				self.check_same(
					email,
					"Intake Conversation count by a number's hash",
					count(guided.CONVERSATION, [["address_hash", "=", known]]),
					count(guided.CONVERSATION, [["address_hash", "=", handles.address_hash(UNKNOWN_PHONE)]]),
				)
			else:
				type(self).probes += 1
				self.probes_here += 1
		# the suite can fail: the recipient's row is there, its error says why, without the number
		error = frappe.db.get_value("Member Broadcast Recipient", recipient, "error")
		self.assertIn("400", error)
		self.assertNotIn(MEMBER["phone"][3:], error)


def make_broadcast_records(member: str, sms_gateway) -> str:
	"""A sent SMS broadcast to the probe member whose delivery failed: the gateway echoed the number in its
	refusal, and the recipient's error keeps what the sender made of it."""
	from unioncase.intake import broadcast, sms
	from unioncase.intake.conversation import DeliveryRefused

	doc = frappe.get_doc(
		{
			"doctype": broadcast.BROADCAST,
			"union": UNION,
			"channel": "SMS",
			"message": f"{BROADCAST_PREFIX}Rapat.",
		}
	).insert(ignore_permissions=True)
	sms_gateway.answers = [(400, {"error": f"Invalid destination {MEMBER['phone']} ({MEMBER['phone'][1:]})"})]
	try:
		sms.send_text(MEMBER["phone"], f"{BROADCAST_PREFIX}Rapat.")
		raise AssertionError("the gateway's 400 was not a refusal")
	except DeliveryRefused as refusal:
		error = str(refusal)
	frappe.get_doc(
		{
			"doctype": broadcast.RECIPIENT,
			"broadcast": doc.name,
			"member": member,
			"status": "Failed",
			"attempts": 1,
			"error": error,
		}
	).insert(ignore_permissions=True)
	frappe.db.set_value(
		broadcast.BROADCAST, doc.name, {"status": "Completed", "recipients_total": 1, "failed_count": 1}
	)
	frappe.db.commit()
	return doc.name


def make_whatsapp_cases() -> dict:
	"""Two workers answer the guided questions on WhatsApp (the inbox's job run in process), one named."""
	from unioncase.intake import conversation, guided, inbox, whatsapp

	remove_whatsapp_probe_data()
	settings = frappe.db.get_singles_dict(whatsapp.SETTINGS)
	frappe.db.set_single_value(whatsapp.SETTINGS, {"guided_intake": 1, "default_union": UNION})
	made = {}
	try:
		for kind, (reporter, text) in WA_WORKERS.items():
			identity = WA_NAMED if reporter == "whatsapp_named" else REPORTERS[reporter]
			number = identity["reporter_phone"].lstrip("+")
			answers = [text, "named" if kind == "named" else "anonymous", "agree", "yes"]
			for position, answer in enumerate(answers):
				message = {
					"from": number,
					"id": f"wamid.TLEAK{kind}{position}{frappe.generate_hash(length=6)}",
					"timestamp": "1764750000",
				}
				if position:
					message.update(
						{
							"type": "interactive",
							"interactive": {
								"type": "button_reply",
								"button_reply": {"id": answer, "title": answer},
							},
						}
					)
				else:
					message.update({"type": "text", "text": {"body": answer}})
				payload = {
					"message": message,
					"contact": {"profile": {"name": identity["reporter_name"]}, "wa_id": number},
					"metadata": {"phone_number_id": "1"},
					"field": "messages",
				}
				name, _created = inbox.receive("WhatsApp", message["id"], payload, summary="probe")
				if inbox.process_message(name) != "Processed":
					raise AssertionError(frappe.db.get_value(inbox.INBOUND, name, "error"))
			made[kind] = frappe.db.get_value(inbox.INBOUND, name, "grievance")
			# no provider in this suite: the prompts count as delivered
			frappe.db.set_value(
				conversation.CASE_MESSAGE,
				{"grievance": made[kind], "delivery_status": "Queued"},
				"delivery_status",
				"Sent",
			)
			if not made[kind]:
				raise AssertionError(f"the {kind} guided conversation opened no case")
			# no worker runs beside the tests: the delivery jobs would pile up in the queue
			frappe.utils.background_jobs.get_queue("short").empty()
		if frappe.db.get_value("Grievance", made["anonymous"], "is_anonymous") != 1:
			raise AssertionError("the anonymous worker's case is not anonymous")
		if frappe.db.get_value("Grievance", made["named"], "reporter_phone") != WA_NAMED["reporter_phone"]:
			raise AssertionError("the named worker's number is not on their case")
		if frappe.db.get_value(guided.CONVERSATION, {"grievance": made["named"]}, "answers"):
			raise AssertionError("an opened conversation keeps its answers")
	finally:
		frappe.db.set_single_value(
			whatsapp.SETTINGS,
			{
				"guided_intake": settings.get("guided_intake") or 0,
				"default_union": settings.get("default_union"),
			},
		)
	frappe.db.commit()
	return made


def remove_whatsapp_probe_data():
	from unioncase.intake import guided, handle

	cases = frappe.get_all("Grievance", filters={"subject": ["like", f"{WA_SUBJECT_PREFIX}%"]}, pluck="name")
	hashes = [
		handle.address_hash(number)
		for number in (WA_NAMED["reporter_phone"], REPORTERS["anonymous"]["reporter_phone"])
	]
	handles = frappe.get_all("Contact Handle", filters={"address_hash": ["in", hashes]}, pluck="name")
	handles += frappe.get_all("Contact Handle", filters={"grievance": ["in", cases or [""]]}, pluck="name")
	frappe.db.delete("__Auth", {"doctype": "Contact Handle", "name": ["in", handles or [""]]})
	frappe.db.delete("Contact Handle", {"name": ["in", handles or [""]]})
	frappe.db.delete(guided.CONVERSATION, {"address_hash": ["in", hashes]})
	frappe.db.delete(guided.CONVERSATION, {"grievance": ["in", cases or [""]]})
	for doctype in ("Case Message", "Inbound Message"):
		frappe.db.delete(doctype, {"grievance": ["in", cases or [""]]})
	for table, column in (
		("Version", "docname"),
		("Comment", "reference_name"),
		("Consent Event", "reference_name"),
		("Grievance", "name"),
	):
		frappe.db.delete(table, {column: ["in", cases or [""]]})


def listed(answer) -> int | None:
	"""How many rows a list answer holds (REST data, a method's list, Report Builder's keys/values)."""
	try:
		body = answer.json()
	except ValueError:
		return None
	for value in (body.get("data"), body.get("message")):
		if isinstance(value, list):
			return len(value)
		if isinstance(value, dict) and "values" in value:
			return len(value["values"])
		if value == {}:
			return 0  # Report Builder answers an empty list as {}
	return None


def oauth_bearer_header(user: str) -> str:
	"""An OAuth bearer token for a user, as Frappe's token endpoint would have issued it."""
	client = frappe.db.get_value("OAuth Client", {"app_name": OAUTH_APP})
	if not client:
		client = (
			frappe.get_doc(
				{
					"doctype": "OAuth Client",
					"app_name": OAUTH_APP,
					"scopes": "all",
					"redirect_uris": "http://127.0.0.1/callback",
					"default_redirect_uri": "http://127.0.0.1/callback",
					"skip_authorization": 1,
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
	token = frappe.generate_hash(length=30)
	frappe.get_doc(
		{
			"doctype": "OAuth Bearer Token",
			"client": client,
			"user": user,
			"scopes": "all",
			"access_token": token,
			"refresh_token": frappe.generate_hash(length=30),
			"expires_in": 3600,
			"expiration_time": add_to_date(now_datetime(), hours=1),
			"status": "Active",
		}
	).insert(ignore_permissions=True)
	return f"Bearer {token}"


def without_error_id(body: str) -> str:
	"""Frappe tags every error with a random id: the one part of two refusals that may differ.

	v15 writes `"__frappe_exc_id": "..."` (with a space), the embedded runtime without one."""
	return re.sub(r'_exc_id[\\"]*\s*:\s*[\\"]*[0-9a-f]+', "", body)


def make_case(kind: str, **values) -> str:
	return new_case(
		{"doctype": "Grievance", "subject": f"{SUBJECT_PREFIX}{kind}", "owning_union": UNION, **values}
	).name


def make_intake_records(cases: dict, sms_gateway) -> dict:
	"""Each intake case's worker wrote in by email: an inbox record (the raw mail, with their address),
	a contact handle holding the address, their message and a reply delivered to Frappe's email queue.
	The anonymous worker also wrote by SMS from their phone: the gateway's post in the inbox, a phone
	handle, their message, a reply delivered to the loopback gateway and one it refused with an error
	that names their number."""
	from unioncase.intake import conversation, handle, inbox, tracking
	from unioncase.tests.privacy_data import ensure_outgoing_email_account

	ensure_outgoing_email_account()
	made = {"case_messages": 0, "inbound_messages": 0, "replies": []}
	for kind in INTAKE_CASES:
		case, address = cases[kind], REPORTERS[kind]["reporter_email"]
		raw = f"From: {REPORTERS[kind]['reporter_name']} <{address}>\r\nSubject: probe\r\n\r\nprobe\r\n"
		inbound, _created = inbox.receive(
			"Email",
			f"{SUBJECT_PREFIX}{kind}@probe".replace(" ", "-"),
			{"raw": base64.b64encode(raw.encode()).decode()},
			union=UNION,
			summary="probe",
		)
		frappe.db.set_value(inbox.INBOUND, inbound, {"state": "Processed", "grievance": case})
		handle.create(case, tracking.code_hash(tracking.new_code()), address, handle.EMAIL)
		conversation.record_inbound(case, "Email", f"Pesan pekerja ({kind})", inbound)
		reply = conversation.reply(case, f"Balasan serikat ({kind})", "Email")["name"]
		if conversation.deliver(reply) != "Sent":
			raise AssertionError(frappe.db.get_value("Case Message", reply, "error"))
		made["case_messages"] += 2
		made["inbound_messages"] += 1
		made["replies"].append(reply)
		if kind == "anonymous":
			made["anonymous_inbound"] = inbound
	make_sms_records(cases["anonymous"], REPORTERS["anonymous"]["reporter_phone"], sms_gateway)
	made["case_messages"] += 3
	made["inbound_messages"] += 1
	return made


def make_sms_records(case: str, phone: str, sms_gateway):
	from unioncase.intake import conversation, handle, inbox, tracking

	fields = {"msisdn": phone, "to": "+6281100000000", "messageId": f"probe-{case}", "text": "Pesan SMS"}
	inbound, _created = inbox.receive("SMS", fields["messageId"], {"fields": fields}, summary="probe")
	frappe.db.set_value(inbox.INBOUND, inbound, {"state": "Processed", "grievance": case, "union": UNION})
	contact = handle.create(case, tracking.code_hash(tracking.new_code()), phone, handle.PHONE)
	conversation.record_inbound(case, "SMS", "Pesan pekerja (SMS)", inbound)
	sms_gateway.answers = [(200, {"message_id": "probe-out-1"}), (400, {"error": f"Bad number {phone}"})]
	for text, outcome in (("Balasan serikat (SMS)", "Sent"), ("Balasan kedua (SMS)", "Failed")):
		reply = frappe.get_doc(
			{
				"doctype": conversation.CASE_MESSAGE,
				"grievance": case,
				"direction": conversation.TO_WORKER,
				"channel": "SMS",
				"content": text,
				"contact_handle": contact,
				"delivery_status": conversation.QUEUED,
			}
		).insert(ignore_permissions=True)
		frappe.db.commit()  # as the official's reply request does: a failed delivery rolls back its job
		if conversation.deliver(reply.name) != outcome:
			raise AssertionError(frappe.db.get_value("Case Message", reply.name, "error"))
	if [request["params"]["to"] for request in sms_gateway.requests] != [phone, phone]:
		raise AssertionError("the SMS replies did not reach the worker's number")


def remove_probe_data():
	"""Cases, files, versions, logs and the member of an earlier run (this suite commits its data).

	Rows are deleted directly: delete_doc would queue a background job per document, and no worker
	runs beside the tests to take them.
	"""
	frappe.set_user("Administrator")
	cases = frappe.get_all("Grievance", filters={"subject": ["like", f"{SUBJECT_PREFIX}%"]}, pluck="name")
	members = frappe.get_all("Union Member", filters={"national_id": MEMBER["national_id"]}, pluck="name")
	documents = cases + members
	broadcasts = frappe.get_all(
		"Member Broadcast", filters={"message": ["like", f"{BROADCAST_PREFIX}%"]}, pluck="name"
	)
	frappe.db.delete("Member Broadcast Recipient", {"broadcast": ["in", broadcasts or [""]]})
	frappe.db.delete("Member Broadcast Recipient", {"member": ["in", members or [""]]})
	frappe.db.delete("Member Broadcast", {"name": ["in", broadcasts or [""]]})
	if not documents:
		return
	# intake records of the cases (inbox, conversation, contact handles, the mail queued to workers)
	replies = frappe.get_all("Case Message", filters={"grievance": ["in", cases or [""]]}, pluck="name")
	queued = frappe.get_all("Email Queue", filters={"reference_name": ["in", replies or [""]]}, pluck="name")
	frappe.db.delete("Email Queue Recipient", {"parent": ["in", queued or [""]]})
	frappe.db.delete("Email Queue", {"name": ["in", queued or [""]]})
	handles = frappe.get_all("Contact Handle", filters={"grievance": ["in", cases or [""]]}, pluck="name")
	frappe.db.delete("__Auth", {"doctype": "Contact Handle", "name": ["in", handles or [""]]})
	for doctype in ("Case Message", "Inbound Message", "Contact Handle"):
		frappe.db.delete(doctype, {"grievance": ["in", cases or [""]]})
	files = frappe.get_all("File", filters={"attached_to_name": ["in", documents]}, pluck="name")
	for name in files:
		file = frappe.get_doc("File", name)
		if not frappe.db.exists("File", {"file_url": file.file_url, "name": ["not in", files]}):
			Path(file.get_full_path()).unlink(missing_ok=True)
	frappe.db.delete("File", {"name": ["in", files or [""]]})
	for table, column in (
		("Version", "docname"),
		("Comment", "reference_name"),
		(ACCESS_LOG, "reference_name"),
		(SEALED, "name"),
		("Grievance Identity Custodian", "parent"),
		("Grievance", "name"),
		("Union Member", "name"),
	):
		frappe.db.delete(table, {column: ["in", documents]})
