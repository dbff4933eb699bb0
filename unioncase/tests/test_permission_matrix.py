"""Role x position in the tree x access path x kind of client: each official sees exactly their subtree,
everywhere.

Every probe compares what a path returns with the oracle in hierarchy_data (computed from the static
tree), on real MariaDB, through the real web server for the REST paths, for a cookie session and for an
API-key client (`Authorization: token key:secret`) of every user. Each probe asserts the status it
must answer with (a path that must answer 200 with rows does: a refusal or a mistyped path fails) and
exactly the cases it must hold; each test asserts how many probes it made.
"""

import csv
import io
import os

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.reports import summary
from unioncase.tests.hierarchy_data import (
	CASE_PREFIX,
	TREE,
	USERS,
	ensure_hierarchy,
	expected_unions,
	member_name,
)
from unioncase.tests.rest_client import HeaderSession, RestSession, api_key_header

CASE_FILTER = [["Grievance", "subject", "like", f"{CASE_PREFIX}%"]]
FILE_PREFIX = "t-matrix-file-"
KANBAN_BOARD = "Grievances by Stage"
BROADCAST_PREFIX = "T matrix broadcast of "
# Roles without Member Broadcast permissions: every broadcast path refuses them.
NO_BROADCASTS = ("Union Researcher",)
OK, REFUSED = 200, 403
CLIENT_KINDS = ("cookie", "token")
TREE_SIZE = 10  # unions (and so cases) in hierarchy_data.TREE
PER_CLIENT = len(USERS) * len(CLIENT_KINDS)  # one probe per user and kind of client
# WhatsApp business numbers routed to unions (WhatsApp Settings' routing table): a case each
ROUTED = {
	"109800000001": "T Cabang Bogor",
	"109800000002": "T Cabang Karawang",
	"109800000003": "T PUK Riau Satu",
}
# roles that read cases but not the conversation with the worker
ROLES_WITHOUT_CONVERSATION = ("Union Researcher",)

# Probes each test makes: the suite fails if a probe silently goes missing.
EXPECTED_PROBES = {
	"test_get_list": len(USERS),
	"test_has_permission_for_every_case": len(USERS) * TREE_SIZE,
	"test_global_search_shows_only_the_subtree_even_when_cases_are_indexed": PER_CLIENT,
	"test_rest_lists": 4 * PER_CLIENT,
	"test_rest_single_documents": 4 * TREE_SIZE * PER_CLIENT,
	"test_rest_counts": 3 * PER_CLIENT,
	"test_rest_number_card": PER_CLIENT,
	"test_rest_group_by_sidebar": PER_CLIENT,
	"test_rest_link_search": 2 * PER_CLIENT,
	"test_rest_export": PER_CLIENT,
	"test_rest_data_export_and_import_template": 2 * PER_CLIENT,
	"test_rest_script_report": PER_CLIENT,
	"test_rest_analytics_reports": 3 * PER_CLIENT,
	"test_rest_kanban": 2 * PER_CLIENT,
	"test_rest_files": PER_CLIENT + TREE_SIZE * PER_CLIENT,
	"test_rest_members_and_unions": 2 * PER_CLIENT,
	"test_rest_union_tree_view": PER_CLIENT,
	"test_rest_writes_stay_in_scope": 3 * len(CLIENT_KINDS),
	"test_rest_member_broadcasts": PER_CLIENT + TREE_SIZE * PER_CLIENT,
	"test_rest_whatsapp_cases_routed_by_receiving_number": PER_CLIENT + 2 * len(ROUTED) * PER_CLIENT,
	# asserts each user's and client's observations at once (subTest), not probe by probe
	"test_an_escalated_case_is_worked_by_its_owner_and_read_by_the_unions_below_it_came_from": 0,
}


class TestPermissionMatrix(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.cases = ensure_hierarchy()
		cls.union_of_case = {name: union for union, name in cls.cases.items()}
		cls.files = {union: ensure_case_file(union, name) for union, name in cls.cases.items()}
		token_headers = {email: api_key_header(email) for email in USERS}
		frappe.db.commit()
		cls.clients = {(email, "cookie"): RestSession(email) for email in USERS} | {
			(email, "token"): HeaderSession(header) for email, header in token_headers.items()
		}
		cls.probes = 0

	@classmethod
	def tearDownClass(cls):
		print(f"\npermission matrix probes: {cls.probes}")
		super().tearDownClass()

	def setUp(self):
		self.wrong_here = []
		self.probes_here = 0

	def tearDown(self):
		frappe.set_user("Administrator")
		self.assertEqual(self.wrong_here, [], "\n".join(self.wrong_here))
		self.assertEqual(self.probes_here, EXPECTED_PROBES[self._testMethodName], "probes made by this test")

	def every_client(self):
		"""(email, kind, client) for every user, with a cookie session and with an API key."""
		for (email, kind), client in self.clients.items():
			yield email, kind, client

	def unions_of(self, case_names) -> set[str]:
		return {self.union_of_case[name] for name in case_names if name in self.union_of_case}

	def check(self, who: str, path: str, answer, status=OK, read=None, expected=None):
		"""One probe: exactly the status expected and, when `read` is given, exactly the expected rows."""
		type(self).probes += 1
		self.probes_here += 1
		if answer.status_code != status:
			self.wrong_here.append(
				f"{who} {path}: status {answer.status_code}, expected {status}: {answer.text[:300]}"
			)
			return
		if read is not None and status == OK:
			found = read(answer)
			if found != expected:
				self.wrong_here.append(f"{who} {path}: {found!r}, expected {expected!r}")

	def check_value(self, who: str, path: str, found, expected):
		type(self).probes += 1
		self.probes_here += 1
		if found != expected:
			self.wrong_here.append(f"{who} {path}: {found!r}, expected {expected!r}")

	def check_cases(self, path: str, request, read, expected=expected_unions):
		"""For every user and client: `request(client)` answers 200 with exactly `expected(email)`."""
		for email, kind, client in self.every_client():
			self.check(f"{email} ({kind})", path, request(client), OK, read, expected(email))

	def check_counts(self, path: str, request, read):
		self.check_cases(path, request, read, expected=lambda email: len(expected_unions(email)))

	# in-process: what list view, Report Builder and kanban boards run on the server
	def test_get_list(self):
		for email in USERS:
			frappe.set_user(email)
			found = self.unions_of(frappe.get_list("Grievance", filters=CASE_FILTER, pluck="name"))
			self.check_value(email, "frappe.get_list", found, expected_unions(email))

	def test_has_permission_for_every_case(self):
		for email in USERS:
			frappe.set_user(email)
			for union, name in self.cases.items():
				found = frappe.has_permission("Grievance", doc=name)
				self.check_value(email, f"has_permission {union}", found, union in expected_unions(email))

	def test_global_search_shows_only_the_subtree_even_when_cases_are_indexed(self):
		from frappe.utils.global_search import rebuild_for_doctype

		# What an admin may do from the Desk: index case subjects and list cases in global search.
		frappe.make_property_setter(
			{
				"doctype": "Grievance",
				"fieldname": "subject",
				"property": "in_global_search",
				"value": "1",
				"property_type": "Check",
			}
		)
		settings = frappe.get_single("Global Search Settings")
		if "Grievance" not in [row.document_type for row in settings.allowed_in_global_search]:
			settings.append("allowed_in_global_search", {"document_type": "Grievance"})
			settings.save()
		frappe.cache.hdel("global_search", "search_priorities")
		rebuild_for_doctype("Grievance")
		frappe.db.commit()
		try:
			self.check_cases(
				"global search",
				lambda client: client.get(
					"/api/method/frappe.utils.global_search.search", text="case", limit=100
				),
				lambda answer: self.unions_of(
					row["name"] for row in answer.json()["message"] if row["doctype"] == "Grievance"
				),
			)
		finally:
			frappe.db.delete("Property Setter", {"doc_type": "Grievance", "property": "in_global_search"})
			settings.reload()
			settings.allowed_in_global_search = [
				row for row in settings.allowed_in_global_search if row.document_type != "Grievance"
			]
			settings.save()
			frappe.db.delete("__global_search", {"doctype": "Grievance"})
			frappe.cache.hdel("global_search", "search_priorities")
			frappe.clear_cache(doctype="Grievance")
			frappe.db.commit()

	# REST
	def test_rest_lists(self):
		names = lambda key: lambda answer: self.unions_of(row["name"] for row in answer.json()[key])  # noqa: E731
		self.check_cases(
			"/api/resource list",
			lambda client: client.get(
				"/api/resource/Grievance", filters=CASE_FILTER, fields=["name"], limit_page_length=0
			),
			names("data"),
		)
		self.check_cases(
			"/api/v2/document list",
			lambda client: client.get(
				"/api/v2/document/Grievance", filters=CASE_FILTER, fields=["name"], limit=1000
			),
			names("data"),
		)
		self.check_cases(
			"frappe.client.get_list",
			lambda client: client.post(
				"/api/method/frappe.client.get_list",
				doctype="Grievance",
				filters=CASE_FILTER,
				fields=["name"],
				limit_page_length=0,
			),
			names("message"),
		)
		self.check_cases(
			"reportview.get (list view, Report Builder)",
			lambda client: client.post(
				"/api/method/frappe.desk.reportview.get",
				doctype="Grievance",
				fields=["`tabGrievance`.`name`"],
				filters=CASE_FILTER,
				page_length=1000,
			),
			reportview_unions(self),
		)

	def test_rest_single_documents(self):
		for email, kind, client in self.every_client():
			scope = expected_unions(email)
			for union, name in self.cases.items():
				who, status = f"{email} ({kind})", OK if union in scope else REFUSED
				self.check(
					who,
					f"/api/resource/Grievance/{union}",
					client.get(f"/api/resource/Grievance/{name}"),
					status,
				)
				self.check(
					who,
					f"/api/v2/document/Grievance/{union}",
					client.get(f"/api/v2/document/Grievance/{name}"),
					status,
				)
				self.check(
					who,
					f"frappe.client.get {union}",
					client.get("/api/method/frappe.client.get", doctype="Grievance", name=name),
					status,
				)
				# get_value lists with a limit of one: an empty answer, not a refusal
				self.check(
					who,
					f"frappe.client.get_value {union}",
					client.get(
						"/api/method/frappe.client.get_value",
						doctype="Grievance",
						filters={"name": name},
						fieldname="subject",
					),
					OK,
					lambda answer: answer.json()["message"],
					{"subject": f"{CASE_PREFIX}{union}"} if union in scope else {},
				)

	def test_rest_counts(self):
		message = lambda answer: answer.json()["message"]  # noqa: E731
		self.check_counts(
			"frappe.client.get_count",
			lambda client: client.get(
				"/api/method/frappe.client.get_count", doctype="Grievance", filters=CASE_FILTER
			),
			message,
		)
		self.check_counts(
			"reportview.get_count",
			lambda client: client.get(
				"/api/method/frappe.desk.reportview.get_count", doctype="Grievance", filters=CASE_FILTER
			),
			message,
		)
		self.check_counts(
			"/api/v2 count",
			lambda client: client.get("/api/v2/doctype/Grievance/count", filters=CASE_FILTER),
			lambda answer: answer.json()["data"],
		)

	def test_rest_number_card(self):
		card = frappe.as_json(frappe.get_doc("Number Card", "Open Cases").as_dict())
		self.check_counts(
			"workspace number card",
			lambda client: client.post(
				"/api/method/frappe.desk.doctype.number_card.number_card.get_result",
				doc=card,
				filters=CASE_FILTER,
			),
			lambda answer: answer.json()["message"],
		)

	def test_rest_group_by_sidebar(self):
		# each union owns one test case: the sidebar counts one case per union of the user's subtree
		self.check_cases(
			"sidebar group-by counts",
			lambda client: client.get(
				"/api/method/frappe.desk.listview.get_group_by_count",
				doctype="Grievance",
				current_filters=CASE_FILTER,
				field="owning_union",
			),
			lambda answer: {row["name"]: row["count"] for row in answer.json()["message"]},
			expected=lambda email: dict.fromkeys(expected_unions(email), 1),
		)

	def test_rest_link_search(self):
		self.check_cases(
			"search_link",
			lambda client: client.get(
				"/api/method/frappe.desk.search.search_link",
				doctype="Grievance",
				txt=CASE_PREFIX,
				page_length=100,
			),
			lambda answer: self.unions_of(row["value"] for row in answer.json()["message"]),
		)
		self.check_cases(
			"search_widget",
			lambda client: client.get(
				"/api/method/frappe.desk.search.search_widget",
				doctype="Grievance",
				txt=CASE_PREFIX,
				page_length=100,
			),
			lambda answer: self.unions_of(row[0] for row in answer.json()["message"]),
		)

	def test_rest_export(self):
		self.check_cases(
			"Report Builder export",
			lambda client: client.post(
				"/api/method/frappe.desk.reportview.export_query",
				doctype="Grievance",
				file_format_type="CSV",
				fields=["`tabGrievance`.`name`", "`tabGrievance`.`subject`"],
				filters=CASE_FILTER,
			),
			subjects_in_csv,
		)

	def test_rest_data_export_and_import_template(self):
		self.check_cases(
			"Data Export tool",
			lambda client: client.post(
				"/api/method/frappe.core.doctype.data_export.exporter.export_data",
				doctype="Grievance",
				select_columns={"Grievance": ["name", "subject"]},
				filters=CASE_FILTER,
				file_type="CSV",
				with_data=1,
				template="false",
			),
			subjects_in_csv,
		)
		self.check_cases(
			"Data Import template with records",
			lambda client: client.post(
				"/api/method/frappe.core.doctype.data_import.data_import.download_template",
				doctype="Grievance",
				export_fields={"Grievance": ["name", "subject"]},
				export_records="by_filter",
				export_filters=CASE_FILTER,
				file_type="CSV",
			),
			subjects_in_csv,
		)

	def test_rest_script_report(self):
		self.check_cases(
			"Grievance Summary report",
			lambda client: client.get(
				"/api/method/frappe.desk.query_report.run", report_name="Grievance Summary", filters={}
			),
			lambda answer: {
				row["owning_union"]
				for row in answer.json()["message"]["result"]
				if isinstance(row, dict) and (row.get("owning_union") or "").startswith("T ")
			},
		)

	def test_rest_kanban(self):
		"""The board loads each column with reportview.get on its stage; moving a card saves the case."""
		board = frappe.get_doc("Kanban Board", KANBAN_BOARD)
		stage = frappe.db.get_value("Grievance", self.cases["T PUK Riau Satu"], board.field_name)
		in_stage = {
			union
			for union, name in self.cases.items()
			if frappe.db.get_value("Grievance", name, board.field_name) == stage
		}
		self.assertTrue(in_stage)
		self.check_cases(
			f"kanban column {stage}",
			lambda client: client.post(
				"/api/method/frappe.desk.reportview.get",
				doctype="Grievance",
				fields=["`tabGrievance`.`name`", f"`tabGrievance`.`{board.field_name}`"],
				filters=[
					*CASE_FILTER,
					*frappe.parse_json(board.filters or "[]"),
					["Grievance", board.field_name, "=", stage],
				],
				page_length=20,
			),
			reportview_unions(self),
			expected=lambda email: expected_unions(email) & in_stage,
		)
		# a card of a case outside the user's subtree is not moved (nor inside it by who only reads it)
		riau_case = self.cases["T PUK Riau Satu"]
		for email, kind, client in self.every_client():
			writes = "T PUK Riau Satu" in expected_unions(email) and USERS[email][0] != "Union Researcher"
			answer = client.post(
				"/api/method/frappe.desk.doctype.kanban_board.kanban_board.update_order_for_single_card",
				board_name=KANBAN_BOARD,
				docname=riau_case,
				from_colname=stage,
				to_colname=stage,
				old_index=0,
				new_index=0,
			)
			# a move within the column saves the same stage: allowed to who writes the case
			self.check(f"{email} ({kind})", "kanban card move", answer, OK if writes else REFUSED)
		frappe.db.rollback()
		self.assertEqual(frappe.db.get_value("Grievance", riau_case, board.field_name), stage)

	def test_rest_files(self):
		"""A case's files: listed and downloaded only by who reads the case."""
		self.check_cases(
			"File list",
			lambda client: client.get(
				"/api/resource/File",
				filters=[["File", "file_name", "like", f"{FILE_PREFIX}%"]],
				fields=["attached_to_name"],
				limit_page_length=0,
			),
			lambda answer: self.unions_of(row["attached_to_name"] for row in answer.json()["data"]),
		)
		for email, kind, client in self.every_client():
			for union, file_url in self.files.items():
				readable = union in expected_unions(email)
				self.check(
					f"{email} ({kind})",
					f"download {file_url}",
					client.get(file_url),
					OK if readable else REFUSED,
					lambda answer: answer.text,
					file_content(union),
				)

	def test_rest_analytics_reports(self):
		"""The analytics reports, grouped by owning union over all time, show exactly the subtree."""
		summary.prune()  # what other tests deleted past the hooks, as the daily job would
		all_time = {"from_date": "2000-01-01", "to_date": "2099-12-31"}
		reports = {
			"Case Volume": {**all_time, "group_by": "union", "period": "Year"},
			"Resolution Performance": {**all_time, "group_by": "union"},
			"Open Case Ageing": {},
		}
		for report, filters in reports.items():
			self.check_cases(
				f"{report} report",
				lambda client, report=report, filters=filters: client.get(
					"/api/method/frappe.desk.query_report.run", report_name=report, filters=filters
				),
				lambda answer: {
					row["union"]
					for row in answer.json()["message"]["result"]
					if isinstance(row, dict) and str(row.get("union") or "").startswith("T ")
				},
			)

	def test_rest_members_and_unions(self):
		def expected_members(email):
			if USERS[email][0] == "Union Researcher":
				return None  # researchers have no access to members' personal data at all
			return {
				union
				for union in expected_unions(email)
				if frappe.db.exists("Union Member", {"full_name": member_name(union)})
			}

		for email, kind, client in self.every_client():
			members = expected_members(email)
			self.check(
				f"{email} ({kind})",
				"Union Member list",
				client.get(
					"/api/resource/Union Member",
					# members' names sit behind the identity level: officials find members by union
					filters=[["Union Member", "workplace_union", "like", "T %"]],
					fields=["workplace_union"],
					limit_page_length=0,
				),
				REFUSED if members is None else OK,
				None
				if members is None
				else lambda answer: {row["workplace_union"] for row in answer.json()["data"]},
				members,
			)
		self.check_cases(
			"Union list",
			lambda client: client.get(
				"/api/resource/Union", filters=[["Union", "name", "like", "T %"]], limit_page_length=0
			),
			lambda answer: {row["name"] for row in answer.json()["data"]},
		)

	def test_rest_member_broadcasts(self):
		"""Member Broadcast: the list holds the broadcasts of the user's subtree, and the recipient preview
		answers only for a union inside it (a 403 outside), on every client."""
		for union, _level, _parent in TREE:
			if not frappe.db.exists("Member Broadcast", {"message": f"{BROADCAST_PREFIX}{union}"}):
				frappe.get_doc(
					{
						"doctype": "Member Broadcast",
						"union": union,
						"channel": "SMS",
						"message": f"{BROADCAST_PREFIX}{union}",
					}
				).insert()
		frappe.db.commit()
		for email, kind, client in self.every_client():
			refused = USERS[email][0] in NO_BROADCASTS
			self.check(
				f"{email} ({kind})",
				"Member Broadcast list",
				client.get(
					"/api/resource/Member Broadcast",
					filters=[["Member Broadcast", "message", "like", f"{BROADCAST_PREFIX}%"]],
					fields=["union"],
					limit_page_length=0,
				),
				REFUSED if refused else OK,
				lambda answer: {row["union"] for row in answer.json()["data"]},
				expected_unions(email),
			)
			for union, _level, _parent in TREE:
				self.check(
					f"{email} ({kind})",
					f"broadcast preview of {union}",
					client.get("/api/method/unioncase.intake.broadcast.preview", union=union),
					OK if union in expected_unions(email) and not refused else REFUSED,
				)

	def test_rest_union_tree_view(self):
		for email, kind, client in self.every_client():
			seen, parents, statuses = set(), [None], set()
			while parents:
				parent = parents.pop()
				answer = client.get(
					"/api/method/unioncase.hierarchy.api.get_union_tree_nodes",
					parent=parent or "",
					is_root=not parent,
				)
				statuses.add(answer.status_code)
				for row in answer.json().get("message") or []:
					if row["value"].startswith("T ") or parent:
						seen.add(row["value"])
						parents.extend([row["value"]] if row["expandable"] else [])
			found = ({OK}, {union for union in seen if union.startswith("T ")})
			self.check_value(f"{email} ({kind})", "Union tree view", found, ({OK}, expected_unions(email)))

	def test_rest_writes_stay_in_scope(self):
		email = "t.branch.bogor@test.unioncase.org"
		outside, inside = self.cases["T PUK Riau Satu"], self.cases["T PUK Bogor Dua"]
		for kind in CLIENT_KINDS:
			client, who = self.clients[(email, kind)], f"{email} ({kind})"
			self.check(
				who, "PUT outside", client.put(f"/api/resource/Grievance/{outside}", severity="High"), REFUSED
			)
			self.check(
				who, "PUT inside", client.put(f"/api/resource/Grievance/{inside}", severity="High"), OK
			)
			subject = f"T matrix refused case ({kind})"
			self.check(
				who,
				"POST outside",
				client.post(
					"/api/resource/Grievance", data={"subject": subject, "owning_union": "T Cabang Riau"}
				),
				REFUSED,
			)
			frappe.db.rollback()
			self.assertFalse(frappe.db.exists("Grievance", {"subject": subject}))
		self.assertNotEqual(frappe.db.get_value("Grievance", outside, "severity"), "High")

	def test_rest_whatsapp_cases_routed_by_receiving_number(self):
		"""A case opened in the union its receiving number routes to: seen in exactly that union's
		part of the tree (list, document, conversation), by no sibling."""
		cases = make_routed_whatsapp_cases()
		union_of = {case: union for union, case in cases.items()}
		for email, kind, client in self.every_client():
			who = f"{email} ({kind})"
			sees = expected_unions(email)
			answer = client.get(
				"/api/resource/Grievance", filters=[["name", "in", list(union_of)]], limit_page_length=0
			)
			self.check(
				who,
				"routed WhatsApp cases list",
				answer,
				OK,
				lambda a: {union_of[row["name"]] for row in a.json()["data"]},
				set(ROUTED.values()) & sees,
			)
			for union, case in cases.items():
				self.check(
					who,
					f"routed WhatsApp case of {union}",
					client.get(f"/api/resource/Grievance/{case}"),
					OK if union in sees else REFUSED,
				)
				converses = union in sees and USERS[email][0] not in ROLES_WITHOUT_CONVERSATION
				self.check(
					who,
					f"conversation of the routed WhatsApp case of {union}",
					client.get("/api/method/unioncase.intake.conversation.get_conversation", case=case),
					OK if converses else REFUSED,
				)

	def test_an_escalated_case_is_worked_by_its_owner_and_read_by_the_unions_below_it_came_from(self):
		"""PUK Bogor Satu -> Cabang Bogor -> Federasi Garmen: owner and above write; the chain reads."""
		from unioncase.workflows.actions import apply_workflow
		from unioncase.workflows.escalation import escalate

		frappe.set_user("Administrator")
		case = frappe.get_doc(
			{"doctype": "Grievance", "subject": "T escalated case", "owning_union": "T PUK Bogor Satu"}
		).insert()
		apply_workflow(case.as_dict(), "Verify")
		escalate(case.name, "Bipartit gagal")
		apply_workflow(frappe.get_doc("Grievance", case.name).as_dict(), "Accept Escalation")
		escalate(case.name, "Butuh federasi")
		case.reload()
		self.assertEqual(
			(case.owning_union, case.originating_union), ("T Federasi Garmen", "T PUK Bogor Satu")
		)
		frappe.db.commit()
		try:
			for (email, kind), client in self.clients.items():
				role = USERS[email][0]
				scope = expected_unions(email)
				reads = bool({case.owning_union, case.originating_union} & scope)
				writes = case.owning_union in scope and role != "Union Researcher"
				frappe.set_user(email)
				observed = {
					"get_list": case.name
					in frappe.get_list("Grievance", filters={"name": case.name}, pluck="name"),
					"has_permission": frappe.has_permission("Grievance", doc=case.name),
					"/api/resource list": bool(
						client.get("/api/resource/Grievance", filters={"name": case.name}).json()["data"]
					),
					"/api/resource document": client.get(f"/api/resource/Grievance/{case.name}").status_code
					== OK,
					"get_count": client.get(
						"/api/method/frappe.client.get_count",
						doctype="Grievance",
						filters={"name": case.name},
					).json()["message"]
					== 1,
				}
				with self.subTest(user=email, client=kind):
					self.assertEqual(observed, dict.fromkeys(observed, reads))
					self.assertEqual(frappe.has_permission("Grievance", "write", doc=case.name), writes)
					written = client.put(f"/api/resource/Grievance/{case.name}", workers_affected=7)
					self.assertEqual(written.status_code, OK if writes else REFUSED, written.text[:200])
		finally:
			frappe.set_user("Administrator")
			frappe.delete_doc("Grievance", case.name, force=True)
			frappe.db.commit()


def make_routed_whatsapp_cases() -> dict[str, str]:
	"""A worker writes to each routed business number and asks for a person at once: {union: case}."""
	from unioncase.intake import inbox, whatsapp

	settings = frappe.get_single(whatsapp.SETTINGS)
	previous = (settings.guided_intake, [row.as_dict() for row in settings.routes])
	settings.guided_intake = 1
	settings.set("routes", [{"phone_number_id": key, "union": union} for key, union in ROUTED.items()])
	settings.save(ignore_permissions=True)
	cases = {}
	try:
		for number_id, union in ROUTED.items():
			number = "6281299" + "".join(str(int(c, 16) % 10) for c in frappe.generate_hash(length=5))
			message = {
				"from": number,
				"id": f"wamid.TMATRIX{frappe.generate_hash(length=10)}",
				"type": "text",
				"text": {"body": "MANUSIA"},
			}
			payload = {"message": message, "metadata": {"phone_number_id": number_id}}
			name, _created = inbox.receive("WhatsApp", message["id"], payload, summary="matrix")
			inbox.process_message(name)
			cases[union] = frappe.db.get_value(inbox.INBOUND, name, "grievance")
			if frappe.db.get_value("Grievance", cases[union], "owning_union") != union:
				raise AssertionError(f"the message to {number_id} did not open its case in {union}")
			frappe.db.set_value("Case Message", {"grievance": cases[union]}, "delivery_status", "Sent")
			# no worker runs beside the tests: the delivery jobs would pile up in the queue
			frappe.utils.background_jobs.get_queue("short").empty()
	finally:
		settings = frappe.get_single(whatsapp.SETTINGS)
		settings.guided_intake = previous[0]
		settings.set("routes", previous[1])
		settings.save(ignore_permissions=True)
	frappe.db.commit()
	return cases


def reportview_unions(test):
	"""The cases of a reportview.get answer (keys and values; an empty list is {})."""

	def read(answer):
		message = answer.json()["message"]
		return test.unions_of(row[0] for row in message["values"]) if message else set()

	return read


def subjects_in_csv(answer) -> set[str]:
	"""The unions of the test cases a CSV answer holds (by their subjects)."""
	return {
		cell[len(CASE_PREFIX) :]
		for row in csv.reader(io.StringIO(answer.content.decode("utf-8-sig")))
		for cell in row
		if cell.startswith(CASE_PREFIX)
	}


def file_content(union: str) -> str:
	return f"T matrix file of the case at {union}"


def ensure_case_file(union: str, case: str) -> str:
	"""A private file attached to the union's test case (committed by setUpClass); its URL."""
	file_name = f"{FILE_PREFIX}{frappe.scrub(union)}.txt"
	url = frappe.db.get_value("File", {"file_name": file_name, "attached_to_name": case}, "file_url")
	if url:
		# a new checkout's site folder holds none of the files an earlier run left in the database
		path = frappe.get_site_path(url.lstrip("/"))
		if not os.path.exists(path):
			os.makedirs(os.path.dirname(path), exist_ok=True)
			with open(path, "w") as stored:
				stored.write(file_content(union))
		return url
	return (
		frappe.get_doc(
			{
				"doctype": "File",
				"file_name": file_name,
				"attached_to_doctype": "Grievance",
				"attached_to_name": case,
				"content": file_content(union),
				"is_private": 1,
			}
		)
		.insert()
		.file_url
	)
