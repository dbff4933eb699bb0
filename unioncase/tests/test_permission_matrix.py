"""Role x position in the tree x access path: each official sees exactly their subtree, everywhere.

Every probe compares what a path returns with the oracle in hierarchy_data (computed from the static
tree), on real MariaDB, through the real web server for the REST paths.
"""

import csv
import io

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.tests.hierarchy_data import CASE_PREFIX, USERS, ensure_hierarchy, expected_unions, member_name
from unioncase.tests.rest_client import RestSession

CASE_FILTER = [["Grievance", "subject", "like", f"{CASE_PREFIX}%"]]


class TestPermissionMatrix(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.cases = ensure_hierarchy()
		cls.union_of_case = {name: union for union, name in cls.cases.items()}
		cls.sessions = {email: RestSession(email) for email in USERS}

	def tearDown(self):
		frappe.set_user("Administrator")

	def unions_of(self, case_names) -> set[str]:
		return {self.union_of_case[name] for name in case_names}

	def check_cases(self, path_name, probe):
		"""Run probe(email) for every user; it must yield exactly the cases of that user's subtree."""
		for email in USERS:
			with self.subTest(path=path_name, user=email):
				self.assertEqual(probe(email), expected_unions(email))

	def check_counts(self, path_name, probe):
		for email in USERS:
			with self.subTest(path=path_name, user=email):
				self.assertEqual(probe(email), len(expected_unions(email)))

	# in-process: what list view, Report Builder and kanban boards run on the server
	def test_get_list(self):
		def probe(email):
			frappe.set_user(email)
			return self.unions_of(frappe.get_list("Grievance", filters=CASE_FILTER, pluck="name"))

		self.check_cases("frappe.get_list", probe)

	def test_has_permission_for_every_case(self):
		for email in USERS:
			frappe.set_user(email)
			visible = {
				union for union, name in self.cases.items() if frappe.has_permission("Grievance", doc=name)
			}
			with self.subTest(user=email):
				self.assertEqual(visible, expected_unions(email))

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

			def probe(email):
				rows = (
					self.sessions[email]
					.get("/api/method/frappe.utils.global_search.search", text="case")
					.json()
				)
				return self.unions_of(
					row["name"]
					for row in rows["message"]
					if row["doctype"] == "Grievance" and row["name"] in self.union_of_case
				)

			self.check_cases("global search", probe)
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
	def test_rest_resource_list(self):
		def probe(email):
			response = self.sessions[email].get(
				"/api/resource/Grievance", filters=CASE_FILTER, fields=["name"], limit_page_length=0
			)
			return self.unions_of(row["name"] for row in response.json()["data"])

		self.check_cases("/api/resource list", probe)

	def test_rest_v2_list(self):
		def probe(email):
			response = self.sessions[email].get(
				"/api/v2/document/Grievance", filters=CASE_FILTER, fields=["name"], limit=1000
			)
			return self.unions_of(row["name"] for row in response.json()["data"])

		self.check_cases("/api/v2/document list", probe)

	def test_rest_reportview(self):
		def probe(email):
			response = self.sessions[email].post(
				"/api/method/frappe.desk.reportview.get",
				doctype="Grievance",
				fields=["`tabGrievance`.`name`"],
				filters=CASE_FILTER,
				page_length=1000,
			)
			message = response.json()["message"]
			return self.unions_of(row[0] for row in message["values"]) if message else set()

		self.check_cases("reportview.get (list, report builder, kanban)", probe)

	def test_rest_single_documents(self):
		for email in USERS:
			readable = set()
			for union, name in self.cases.items():
				response = self.sessions[email].get(f"/api/resource/Grievance/{name}")
				self.assertIn(response.status_code, (200, 403), response.text[:200])
				if response.status_code == 200:
					readable.add(union)
			with self.subTest(user=email):
				self.assertEqual(readable, expected_unions(email))

	def test_rest_client_get_value(self):
		def probe(email):
			readable = set()
			for union, name in self.cases.items():
				response = self.sessions[email].get(
					"/api/method/frappe.client.get_value",
					doctype="Grievance",
					filters={"name": name},
					fieldname="subject",
				)
				if response.status_code == 200 and (response.json().get("message") or {}).get("subject"):
					readable.add(union)
			return readable

		self.check_cases("frappe.client.get_value", probe)

	def test_rest_counts(self):
		session_get = lambda email, path, **params: self.sessions[email].get(path, **params).json()  # noqa: E731
		self.check_counts(
			"frappe.client.get_count",
			lambda email: session_get(
				email, "/api/method/frappe.client.get_count", doctype="Grievance", filters=CASE_FILTER
			)["message"],
		)
		self.check_counts(
			"reportview.get_count",
			lambda email: session_get(
				email,
				"/api/method/frappe.desk.reportview.get_count",
				doctype="Grievance",
				filters=CASE_FILTER,
			)["message"],
		)
		self.check_counts(
			"/api/v2 count",
			lambda email: session_get(email, "/api/v2/doctype/Grievance/count", filters=CASE_FILTER)["data"],
		)

	def test_rest_number_card(self):
		card = frappe.as_json(frappe.get_doc("Number Card", "Open Cases").as_dict())
		self.check_counts(
			"workspace number card",
			lambda email: (
				self.sessions[email]
				.post(
					"/api/method/frappe.desk.doctype.number_card.number_card.get_result",
					doc=card,
					filters=CASE_FILTER,
				)
				.json()["message"]
			),
		)

	def test_rest_group_by_sidebar(self):
		def probe(email):
			response = self.sessions[email].get(
				"/api/method/frappe.desk.listview.get_group_by_count",
				doctype="Grievance",
				current_filters=CASE_FILTER,
				field="owning_union",
			)
			return {row["name"] for row in response.json()["message"]}

		self.check_cases("sidebar group-by counts", probe)

	def test_rest_link_search(self):
		def probe(email):
			response = self.sessions[email].get(
				"/api/method/frappe.desk.search.search_link",
				doctype="Grievance",
				txt=CASE_PREFIX,
				page_length=100,
			)
			rows = response.json().get("message") or response.json().get("results") or []
			return self.unions_of(row["value"] for row in rows if row["value"] in self.union_of_case)

		self.check_cases("link search", probe)

	def test_rest_export(self):
		def probe(email):
			response = self.sessions[email].post(
				"/api/method/frappe.desk.reportview.export_query",
				doctype="Grievance",
				file_format_type="CSV",
				fields=["`tabGrievance`.`name`", "`tabGrievance`.`subject`"],
				filters=CASE_FILTER,
			)
			if response.status_code == 403:
				return set()
			header, *rows = csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
			subject = header.index("Subject")
			return {row[subject][len(CASE_PREFIX) :] for row in rows if row[subject].startswith(CASE_PREFIX)}

		self.check_cases("export", probe)

	def test_rest_data_export_and_import_template(self):
		def subjects_in_csv(response):
			if response.status_code == 403:
				return set()
			return {
				cell[len(CASE_PREFIX) :]
				for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
				for cell in row
				if cell.startswith(CASE_PREFIX)
			}

		self.check_cases(
			"Data Export tool",
			lambda email: subjects_in_csv(
				self.sessions[email].post(
					"/api/method/frappe.core.doctype.data_export.exporter.export_data",
					doctype="Grievance",
					select_columns={"Grievance": ["name", "subject"]},
					filters=CASE_FILTER,
					file_type="CSV",
					with_data=1,
					template="false",
				)
			),
		)
		self.check_cases(
			"Data Import template with records",
			lambda email: subjects_in_csv(
				self.sessions[email].post(
					"/api/method/frappe.core.doctype.data_import.data_import.download_template",
					doctype="Grievance",
					export_fields={"Grievance": ["name", "subject"]},
					export_records="by_filter",
					export_filters=CASE_FILTER,
					file_type="CSV",
				)
			),
		)

	def test_rest_script_report(self):
		def probe(email):
			response = self.sessions[email].get(
				"/api/method/frappe.desk.query_report.run", report_name="Grievance Summary", filters={}
			)
			if response.status_code == 403:
				return set()
			rows = response.json()["message"]["result"]
			return {
				row["owning_union"]
				for row in rows
				if isinstance(row, dict) and row.get("owning_union", "").startswith("T ")
			}

		self.check_cases("Grievance Summary report", probe)

	def test_rest_members_and_unions(self):
		def members(email):
			response = self.sessions[email].get(
				"/api/resource/Union Member",
				# members' names sit behind the identity level: officials find members by union
				filters=[["Union Member", "workplace_union", "like", "T %"]],
				fields=["workplace_union"],
				limit_page_length=0,
			)
			return {row["workplace_union"] for row in response.json().get("data", [])}

		def unions(email):
			response = self.sessions[email].get(
				"/api/resource/Union", filters=[["Union", "name", "like", "T %"]], limit_page_length=0
			)
			return {row["name"] for row in response.json().get("data", [])}

		for email, (role, _union) in USERS.items():
			expected_members = {
				u
				for u in expected_unions(email)
				if frappe.db.exists("Union Member", {"full_name": member_name(u)})
			}
			with self.subTest(path="Union Member list", user=email):
				# researchers have no access to members' personal data at all
				self.assertEqual(members(email), set() if role == "Union Researcher" else expected_members)
			with self.subTest(path="Union list", user=email):
				self.assertEqual(unions(email), expected_unions(email))

	def test_rest_union_tree_view(self):
		def probe(email):
			session, seen, parents = self.sessions[email], set(), [None]
			while parents:
				parent = parents.pop()
				rows = session.get(
					"/api/method/unioncase.hierarchy.api.get_union_tree_nodes",
					parent=parent or "",
					is_root=not parent,
				).json()["message"]
				for row in rows:
					if row["value"].startswith("T ") or parent:
						seen.add(row["value"])
						parents.extend([row["value"]] if row["expandable"] else [])
			return {union for union in seen if union.startswith("T ")}

		self.check_cases("Union tree view", probe)

	def test_rest_writes_stay_in_scope(self):
		session = self.sessions["t.branch.bogor@test.unioncase.org"]
		outside, inside = self.cases["T PUK Riau Satu"], self.cases["T PUK Bogor Dua"]
		self.assertEqual(session.put(f"/api/resource/Grievance/{outside}", severity="High").status_code, 403)
		self.assertEqual(session.put(f"/api/resource/Grievance/{inside}", severity="High").status_code, 200)
		refused = session.post(
			"/api/resource/Grievance", data={"subject": "X", "owning_union": "T Cabang Riau"}
		)
		self.assertEqual(refused.status_code, 403)
		self.assertFalse(frappe.db.exists("Grievance", {"subject": "X", "owning_union": "T Cabang Riau"}))

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
			for email, (role, _union) in USERS.items():
				scope = expected_unions(email)
				reads = bool({case.owning_union, case.originating_union} & scope)
				writes = case.owning_union in scope and role != "Union Researcher"
				session = self.sessions[email]
				frappe.set_user(email)
				observed = {
					"get_list": case.name
					in frappe.get_list("Grievance", filters={"name": case.name}, pluck="name"),
					"has_permission": frappe.has_permission("Grievance", doc=case.name),
					"/api/resource list": bool(
						session.get("/api/resource/Grievance", filters={"name": case.name}).json()["data"]
					),
					"/api/resource document": session.get(f"/api/resource/Grievance/{case.name}").status_code
					== 200,
					"get_count": session.get(
						"/api/method/frappe.client.get_count",
						doctype="Grievance",
						filters={"name": case.name},
					).json()["message"]
					== 1,
				}
				with self.subTest(user=email):
					self.assertEqual(observed, dict.fromkeys(observed, reads))
					self.assertEqual(frappe.has_permission("Grievance", "write", doc=case.name), writes)
					written = session.put(f"/api/resource/Grievance/{case.name}", workers_affected=7)
					self.assertEqual(written.status_code == 200, writes, written.text[:200])
		finally:
			frappe.set_user("Administrator")
			frappe.delete_doc("Grievance", case.name, force=True)
			frappe.db.commit()
