"""The case lifecycle on real MariaDB: workflow rules per role and level, escalation along the tree,
self-approval, concurrency, closing, assignment and the satisfaction request."""

import email
import re

import frappe
from frappe.model.workflow import WorkflowTransitionError

from unioncase.compat import IntegrationTestCase
from unioncase.privacy.consent import current_consent_text, record_consent
from unioncase.tests.harness import changes_tracked, jobs_run_now
from unioncase.tests.hierarchy_data import ensure_hierarchy, make_official
from unioncase.tests.privacy_data import ensure_outgoing_email_account
from unioncase.workflows.actions import apply_workflow
from unioncase.workflows.escalation import escalate
from unioncase.workflows.install import install_lifecycle

PUK = "T PUK Bogor Satu"
BRANCH = "T Cabang Bogor"
PUK_OFFICIAL = "t.puk.bogor1@test.unioncase.org"
BRANCH_OFFICIAL = "t.branch.bogor@test.unioncase.org"
SIBLING_BRANCH_OFFICIAL = "t.branch.riau@test.unioncase.org"
FEDERATION_OFFICIAL = "t.federation.garmen@test.unioncase.org"
ADMIN = "t.admin@test.unioncase.org"
RETENTION_JOB = "unioncase.privacy.retention.apply_retention_policy"


class TestLifecycle(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()

	@classmethod
	def tearDownClass(cls):
		from frappe.cache_manager import clear_doctype_map

		super().tearDownClass()
		# Frappe caches a doctype's assignment rules; the rolled-back ones must leave that cache too.
		clear_doctype_map("Assignment Rule", "Grievance")

	def setUp(self):
		frappe.set_user("Administrator")

	def tearDown(self):
		frappe.set_user("Administrator")

	def new_case(self, union=PUK, **values):
		return frappe.get_doc(
			{"doctype": "Grievance", "subject": "Lembur tidak dibayar", "owning_union": union, **values}
		).insert()

	def act(self, user, case, action):
		frappe.set_user(user)
		try:
			return apply_workflow(frappe.get_doc("Grievance", case.name).as_dict(), action)
		finally:
			frappe.set_user("Administrator")

	def notification_logs(self, case: str) -> list[tuple]:
		return frappe.get_all(
			"Notification Log",
			filters={"document_name": case},
			fields=["name", "for_user", "type", "subject"],
			as_list=True,
		)

	def escalated_case(self):
		case = self.new_case()
		self.act(PUK_OFFICIAL, case, "Verify")
		frappe.set_user(PUK_OFFICIAL)
		escalate(case.name, "Perusahaan menolak bipartit")
		frappe.set_user("Administrator")
		return frappe.get_doc("Grievance", case.name)

	def test_a_new_case_starts_received_at_its_level(self):
		case = self.new_case()
		self.assertEqual(
			(case.workflow_state, case.status, case.owning_level), ("Received", "Open", "Workplace Union")
		)

	def test_actions_are_refused_outside_the_role_or_level_with_a_clear_message(self):
		case = self.new_case()
		# a branch official may not verify a case its workplace union owns
		with self.assertRaisesRegex(WorkflowTransitionError, "none of your roles may take that action"):
			self.act(BRANCH_OFFICIAL, case, "Verify")
		self.act(PUK_OFFICIAL, case, "Verify")
		self.act(PUK_OFFICIAL, case, "Investigate")
		# only federation and confederation officials take a case to the labour office or court
		with self.assertRaisesRegex(WorkflowTransitionError, "Take to Mediation"):
			self.act(PUK_OFFICIAL, case, "Take to Mediation")
		self.assertEqual(frappe.db.get_value("Grievance", case.name, "workflow_state"), "Under Investigation")

	def test_a_saved_stage_change_outside_the_workflow_is_refused(self):
		case = self.new_case()
		frappe.set_user(PUK_OFFICIAL)
		case = frappe.get_doc("Grievance", case.name)
		case.workflow_state = "Resolved"
		with self.assertRaises(frappe.ValidationError):
			case.save()

	def test_escalation_moves_the_case_to_the_parent_and_only_its_officials_are_told(self):
		case = self.new_case()
		self.act(PUK_OFFICIAL, case, "Verify")
		before = set(self.notification_logs(case.name))
		frappe.set_user(PUK_OFFICIAL)
		with jobs_run_now():  # Frappe's own notices, had the hop any, are written at once on every version
			escalate(case.name, "Perusahaan menolak bipartit")
		frappe.set_user("Administrator")
		case = frappe.get_doc("Grievance", case.name)
		self.assertEqual(
			(case.owning_union, case.escalated_from, case.workflow_state), (BRANCH, PUK, "Escalated")
		)
		self.assertEqual(case.owning_level, "Branch")
		self.assertEqual(case.branch, BRANCH)
		hop = case.escalations[-1]
		self.assertEqual(
			(hop.direction, hop.from_union, hop.to_union, hop.moved_by, hop.reason),
			("Escalated", PUK, BRANCH, PUK_OFFICIAL, "Perusahaan menolak bipartit"),
		)
		self.assertIsNone(case.escalation_reason)

		def todo_for(user):
			return frappe.db.exists(
				"ToDo", {"reference_name": case.name, "allocated_to": user, "status": "Open"}
			)

		def notices(user):
			"""What the hop sent the user: every Notification Log it wrote, Frappe's own included."""
			return sorted(
				(kind, subject)
				for name, for_user, kind, subject in self.notification_logs(case.name)
				if for_user == user and (name, for_user, kind, subject) not in before
			)

		def workflow_actions(user):
			frappe.set_user(user)
			rows = frappe.get_list("Workflow Action", filters={"reference_name": case.name}, pluck="name")
			visible = [name for name in rows if frappe.has_permission("Workflow Action", doc=name)]
			frappe.set_user("Administrator")
			return visible

		self.assertTrue(todo_for(BRANCH_OFFICIAL))
		self.assertTrue(workflow_actions(BRANCH_OFFICIAL))
		# what a hop sends: one alert to each official of the new owner, saying why; nothing else
		reason = f"{case.name}: Escalated from {PUK} to {BRANCH}: Perusahaan menolak bipartit"
		self.assertEqual(notices(BRANCH_OFFICIAL), [("Alert", reason)])
		for outsider in (SIBLING_BRANCH_OFFICIAL, FEDERATION_OFFICIAL, PUK_OFFICIAL):
			with self.subTest(user=outsider):
				self.assertFalse(todo_for(outsider))
				self.assertFalse(workflow_actions(outsider))
				self.assertEqual(notices(outsider), [])  # the workplace official's ToDo closes silently
		# the sibling branch cannot read the case; the parent branch can; the hop is in the timeline
		self.assertFalse(frappe.has_permission("Grievance", doc=case.name, user=SIBLING_BRANCH_OFFICIAL))
		# the workplace union it came from follows it, read-only, and its official's ToDo is closed
		self.assertTrue(frappe.has_permission("Grievance", doc=case.name, user=PUK_OFFICIAL))
		self.assertFalse(frappe.has_permission("Grievance", "write", doc=case.name, user=PUK_OFFICIAL))
		self.assertEqual(case.originating_union, PUK)
		self.assertTrue(frappe.has_permission("Grievance", doc=case.name, user=BRANCH_OFFICIAL))
		self.assertTrue(
			frappe.db.exists(
				"Comment",
				{"reference_name": case.name, "content": ["like", f"Escalated from {PUK} to {BRANCH}%"]},
			)
		)

	def test_kanban_board_moves_follow_the_workflow(self):
		from frappe.desk.doctype.kanban_board.kanban_board import update_order_for_single_card

		board = frappe.get_doc("Kanban Board", "Grievances by Stage")
		self.assertEqual(board.field_name, "workflow_state")
		self.assertIn("In Mediation", [column.column_name for column in board.columns])
		case = self.new_case()
		frappe.set_user(PUK_OFFICIAL)
		update_order_for_single_card(board.name, case.name, "Received", "Verified", 0, 0)
		self.assertEqual(frappe.db.get_value("Grievance", case.name, "workflow_state"), "Verified")
		frappe.clear_messages()
		with self.assertRaises(frappe.ValidationError):  # a card cannot skip the workflow
			update_order_for_single_card(board.name, case.name, "Verified", "Resolved", 0, 0)
		frappe.set_user("Administrator")
		# The app's message (not Frappe's "transition not allowed"): the case, its owner, where it may go.
		message = re.sub(r"<[^>]+>", "", frappe.message_log[-1]["message"])
		self.assertIn(f"You cannot move {case.name} from Verified to Resolved: it is owned by {PUK}", message)
		self.assertIn("From Verified you may move it to:", message)
		self.assertIn("Under Investigation", message)
		self.assertEqual(
			frappe.db.get_value("Grievance", case.name, ["workflow_state", "status"]), ("Verified", "Open")
		)

	def test_a_workplace_officials_cases_can_be_read_from_the_originating_union_index(self):
		from unioncase.hierarchy.permissions import grievance_query

		condition = grievance_query(PUK_OFFICIAL)
		self.assertIn("originating_union", condition)
		plan = frappe.db.sql(
			f"EXPLAIN SELECT name FROM `tabGrievance` WHERE {condition} AND status = 'Open' "
			"ORDER BY modified DESC LIMIT 20",
			as_dict=True,
		)
		self.assertIn("originating_union_status_modified", plan[0].possible_keys)

	def test_the_timeline_shows_every_transition(self):
		case = self.new_case()
		with changes_tracked():
			self.act(PUK_OFFICIAL, case, "Verify")
		self.assertTrue(
			frappe.db.exists(
				"Comment", {"reference_name": case.name, "comment_type": "Workflow", "content": "Verified"}
			)
		)
		changes = [
			row
			for version in frappe.get_all("Version", filters={"docname": case.name}, pluck="data")
			for row in frappe.parse_json(version).get("changed", [])
		]
		self.assertIn(["workflow_state", "Received", "Verified"], changes)

	def test_escalation_needs_a_reason(self):
		case = self.new_case()
		self.act(PUK_OFFICIAL, case, "Verify")
		with self.assertRaisesRegex(frappe.MandatoryError, "Give the reason"):
			self.act(PUK_OFFICIAL, case, "Escalate")
		self.assertEqual(frappe.db.get_value("Grievance", case.name, "owning_union"), PUK)

	def test_return_gives_the_case_back_and_records_the_hop(self):
		case = self.escalated_case()
		frappe.set_user(BRANCH_OFFICIAL)
		escalate(case.name, "Selesaikan dulu di tingkat PUK", action="Return to Lower Union")
		frappe.set_user("Administrator")
		case.reload()
		self.assertEqual(
			(case.owning_union, case.escalated_from, case.workflow_state), (PUK, None, "Verified")
		)
		self.assertEqual([hop.direction for hop in case.escalations], ["Escalated", "Returned"])
		self.assertEqual(case.escalations[-1].moved_by, BRANCH_OFFICIAL)

	def test_the_official_who_escalated_cannot_accept_their_own_escalation(self):
		both = "t.puk-and-branch@test.unioncase.org"
		make_official(both, "Branch Official", BRANCH)
		frappe.get_doc("User", both).add_roles("Workplace Union Official")
		case = self.new_case()
		self.act(PUK_OFFICIAL, case, "Verify")
		frappe.set_user(both)
		escalate(case.name, "Butuh dukungan cabang")
		with self.assertRaisesRegex(frappe.PermissionError, "You escalated"):
			apply_workflow(frappe.get_doc("Grievance", case.name).as_dict(), "Accept Escalation")
		self.act(BRANCH_OFFICIAL, case, "Accept Escalation")
		self.assertEqual(frappe.db.get_value("Grievance", case.name, "workflow_state"), "Under Investigation")

	def test_frappe_self_approval_keeps_the_recorder_from_verifying_alone(self):
		frappe.set_user(PUK_OFFICIAL)
		case = self.new_case()
		with self.assertRaisesRegex(frappe.ValidationError, "Self approval"):
			apply_workflow(case.as_dict(), "Verify")
		# nor around the action buttons: a saved stage (REST, kanban) gets the same rule
		case.workflow_state = "Verified"
		with self.assertRaisesRegex(frappe.PermissionError, "You recorded"):
			case.save()
		# a transition that allows self-approval is open to the recorder
		apply_workflow(frappe.get_doc("Grievance", case.name).as_dict(), "Reject")

	def test_no_escalation_above_the_top_of_the_tree(self):
		case = self.new_case(union="T Konfederasi", escalation_reason="Ke mana lagi?")
		self.act(ADMIN, case, "Verify")
		with self.assertRaisesRegex(frappe.ValidationError, "top of the union hierarchy"):
			self.act(ADMIN, case, "Escalate")
		self.assertEqual(frappe.db.get_value("Grievance", case.name, "owning_union"), "T Konfederasi")

	def test_concurrent_transitions_do_not_get_lost(self):
		case = self.new_case()
		first, second = frappe.get_doc("Grievance", case.name), frappe.get_doc("Grievance", case.name)
		frappe.set_user(PUK_OFFICIAL)
		first.workflow_state = "Verified"
		first.save()
		second.workflow_state = "Rejected"
		with self.assertRaises(frappe.TimestampMismatchError):
			second.save()
		# the action buttons reload the case: a second, now stale action is refused, not applied twice
		with self.assertRaisesRegex(WorkflowTransitionError, "stage <strong>Verified</strong>"):
			apply_workflow(frappe.get_doc("Grievance", case.name).as_dict(), "Verify")
		frappe.set_user("Administrator")
		self.assertEqual(frappe.db.get_value("Grievance", case.name, "workflow_state"), "Verified")

	def test_closing_needs_outcome_and_remedy(self):
		case = self.new_case()
		for action in ("Verify", "Investigate", "Resolve"):
			self.act(PUK_OFFICIAL, case, action)
		with self.assertRaisesRegex(frappe.MandatoryError, "Outcome, Remedy Summary"):
			self.act(PUK_OFFICIAL, case, "Close")
		frappe.db.set_value(
			"Grievance", case.name, {"outcome": "Partially Resolved", "remedy": "Upah lembur dibayar"}
		)
		self.act(PUK_OFFICIAL, case, "Close")
		self.assertEqual(
			frappe.db.get_value("Grievance", case.name, ["workflow_state", "status"]), ("Closed", "Closed")
		)

	def test_a_union_with_open_cases_is_not_deleted(self):
		from unioncase.tests.hierarchy_data import make_union

		union = make_union(f"L{frappe.generate_hash(length=5)} PUK", "Workplace Union", BRANCH).name
		self.addCleanup(remove_union_with_its_cases, union)  # the case's processing may commit (v15's mail)
		self.new_case(union=union)
		with self.assertRaisesRegex(frappe.LinkExistsError, "open cases"):
			frappe.delete_doc("Union", union)

	def test_admin_edits_to_the_workflow_survive_migrate(self):
		before = admin_editable_state()
		try:
			self.check_admin_edits_survive_the_install_steps()
		finally:
			frappe.db.rollback()
			restore_admin_editable_state(before)  # on v15 the install steps commit the edits (DDL)

	def check_admin_edits_survive_the_install_steps(self):
		workflow = frappe.get_doc("Workflow", "Grievance Lifecycle")
		workflow.transitions = [t for t in workflow.transitions if t.action != "Reopen"]
		if not frappe.db.exists("Workflow State", "On Hold"):
			frappe.get_doc({"doctype": "Workflow State", "workflow_state_name": "On Hold"}).insert()
		workflow.append("states", {"state": "On Hold", "doc_status": "0", "allow_edit": "All"})
		workflow.transitions[0].allowed = "Union Administrator"
		workflow.save()
		frappe.db.set_value("Workflow State", "Received", "style", "Danger")
		frappe.db.set_value("Kanban Board", "Grievances by Stage", "show_labels", 0)

		frappe.get_attr("unioncase.patches.v0_2.install_case_lifecycle.execute")()
		frappe.get_attr("unioncase.setup.install.after_install")()

		workflow = frappe.get_doc("Workflow", "Grievance Lifecycle")
		self.assertIn("On Hold", [s.state for s in workflow.states])
		self.assertNotIn("Reopen", [t.action for t in workflow.transitions])
		self.assertEqual(workflow.transitions[0].allowed, "Union Administrator")
		self.assertEqual(frappe.db.get_value("Workflow State", "Received", "style"), "Danger")
		self.assertEqual(frappe.db.get_value("Kanban Board", "Grievances by Stage", "show_labels"), 0)

	def test_admin_edits_survive_a_real_migrate(self):
		"""`migrate` in its own process (DocType sync, patches) on the committed edit, like a bench upgrade:
		`bench --site <site> migrate`'s own command, from this process's sites folder (compat.migrate_command)."""
		import subprocess

		from unioncase.compat import migrate_command

		workflow = frappe.get_doc("Workflow", "Grievance Lifecycle")
		verify = next(t for t in workflow.transitions if t.action == "Verify")
		original_condition = verify.condition
		verify.condition = 'doc.owning_level == "Workplace Union" and doc.severity != "Critical"'
		workflow.save()
		frappe.db.delete("Scheduled Job Type", {"method": RETENTION_JOB})
		frappe.db.commit()
		try:
			migrated = subprocess.run(
				migrate_command(frappe.local.site), capture_output=True, text=True, timeout=300
			)
			self.assertEqual(migrated.returncode, 0, migrated.stdout + migrated.stderr)
			frappe.db.commit()  # a fresh snapshot: read what the migrate committed
			# it did migrate: the scheduled job deleted above is back from hooks.py (SiteMigration: sync_jobs)
			self.assertTrue(frappe.db.exists("Scheduled Job Type", {"method": RETENTION_JOB}))
			frappe.clear_cache(doctype="Workflow")
			conditions = frappe.get_all(
				"Workflow Transition",
				filters={"parent": "Grievance Lifecycle", "action": "Verify"},
				pluck="condition",
			)
			self.assertIn(verify.condition, conditions)
		finally:
			workflow.reload()
			next(t for t in workflow.transitions if t.name == verify.name).condition = original_condition
			workflow.save()
			if not frappe.db.exists("Scheduled Job Type", {"method": RETENTION_JOB}):
				from frappe.core.doctype.scheduled_job_type.scheduled_job_type import sync_jobs

				sync_jobs()
			frappe.db.commit()

	def test_a_deleted_workflow_is_reinstalled_but_an_admins_own_is_kept(self):
		frappe.db.set_value("Workflow", "Grievance Lifecycle", "workflow_name", "Grievance Lifecycle")
		frappe.rename_doc("Workflow", "Grievance Lifecycle", "Federation Case Flow", force=True)
		install_lifecycle()
		self.assertFalse(frappe.db.exists("Workflow", "Grievance Lifecycle"))
		frappe.delete_doc("Workflow", "Federation Case Flow")
		install_lifecycle()
		self.assertTrue(frappe.db.get_value("Workflow", "Grievance Lifecycle", "is_active"))

	def test_new_cases_are_balanced_among_the_unions_officials_and_assignment_stays_in_scope(self):
		from frappe.desk.form import assign_to

		from unioncase.tests.hierarchy_data import make_union

		prefix = f"A{frappe.generate_hash(length=5)}"
		union = make_union(f"{prefix} PUK", "Workplace Union", BRANCH).name
		officials = [
			make_official(f"{prefix.lower()}.{n}@test.unioncase.org", "Workplace Union Official", union)
			for n in (1, 2)
		]
		make_official(f"{prefix.lower()}.researcher@test.unioncase.org", "Union Researcher", union)
		rule = frappe.get_doc("Assignment Rule", f"Grievance: {union}")
		self.assertEqual(sorted(row.user for row in rule.users), sorted(officials))  # no researcher
		assignees = [frappe.parse_json(self.new_case(union=union).reload()._assign or "[]") for _ in range(4)]
		self.assertEqual(sorted(a[0] for a in assignees), sorted(officials * 2))
		# an official of another branch is refused, and the case is not shared with them
		case = self.new_case(union=union)
		with self.assertRaisesRegex(frappe.PermissionError, "outside their part"):
			assign_to.add({"assign_to": [SIBLING_BRANCH_OFFICIAL], "doctype": "Grievance", "name": case.name})
		self.assertFalse(
			frappe.db.exists("DocShare", {"share_name": case.name, "user": SIBLING_BRANCH_OFFICIAL})
		)
		# detaching an official takes them out of the rule
		frappe.delete_doc(
			"User Permission",
			frappe.db.get_value("User Permission", {"user": officials[0], "for_value": union}),
		)
		self.assertEqual(
			[row.user for row in frappe.get_doc("Assignment Rule", f"Grievance: {union}").users],
			officials[1:],
		)


class TestSatisfactionRequest(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		# A default outgoing account, whatever other classes (Frappe's own test records on v15) left
		with jobs_run_now():  # Frappe skips the SMTP check in tests; the mail only waits in Email Queue
			ensure_outgoing_email_account()

	def resolve(self, **values):
		case = frappe.get_doc(
			{"doctype": "Grievance", "subject": "Upah di bawah UMK", "owning_union": PUK, **values}
		)
		if not case.is_anonymous:
			record_consent(case, current_consent_text())
		case.insert()
		for action in ("Verify", "Investigate", "Resolve"):
			case = apply_workflow(frappe.get_doc("Grievance", case.name).as_dict(), action)
		return case

	def test_the_worker_rates_a_resolved_case_once_through_the_link(self):
		from unioncase.workflows.satisfaction import submit_rating
		from unioncase.www import case_feedback

		case = self.resolve(reporter_name="Siti", reporter_email="siti@example.org")
		mail = email.message_from_string(
			frappe.get_last_doc("Email Queue", filters={"reference_name": case.name}).message
		)
		body = "".join(
			part.get_payload(decode=True).decode() for part in mail.walk() if not part.is_multipart()
		)
		token = re.search(r"case-feedback\?token=([\w-]+)", body).group(1)
		stored = frappe.db.get_value("Grievance", case.name, "satisfaction_token_hash")
		self.assertTrue(stored and token not in stored)

		frappe.set_user("Guest")
		try:
			frappe.form_dict.update({"token": token, "done": None})
			self.assertEqual(case_feedback.get_context(frappe._dict()).case, case.name)
			with self.assertRaisesRegex(frappe.ValidationError, "from 1 to 5"):
				submit_rating(token, 9)
			submit_rating(token, 4, "Cepat ditangani")
			with self.assertRaisesRegex(frappe.ValidationError, "not valid"):
				submit_rating(token, 1)
		finally:
			frappe.form_dict.pop("token", None)
			frappe.set_user("Administrator")
		rating, comment = frappe.db.get_value(
			"Grievance", case.name, ["satisfaction_rating", "satisfaction_comment"]
		)
		self.assertEqual((rating, comment), (0.8, "Cepat ditangani"))

	def test_the_page_is_served_light_and_translated_to_guests(self):
		import requests

		from unioncase.tests.rest_client import server_url

		page = requests.get(f"{server_url()}/case-feedback?token=not-a-token&_lang=id", timeout=30)
		self.assertEqual(page.status_code, 200)
		self.assertIn("Tautan ini tidak valid atau sudah digunakan.", page.text)
		self.assertNotIn("/assets/", page.text)  # no Desk or website bundles to download on a cheap phone

	def test_an_anonymous_case_gets_no_request(self):
		case = self.resolve(is_anonymous=1, reporter_email="someone@example.org")
		self.assertFalse(frappe.db.exists("Email Queue", {"reference_name": case.name}))
		self.assertFalse(frappe.db.get_value("Grievance", case.name, "satisfaction_requested_on"))


class TestLifecycleOverRest(IntegrationTestCase):
	"""What the Desk's action buttons and the worker's phone send, through the live server."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.cases = ensure_hierarchy()

	def test_a_refused_action_button_says_why(self):
		from unioncase.tests.rest_client import RestSession

		case = frappe.get_doc("Grievance", self.cases[PUK])
		response = RestSession(PUK_OFFICIAL).post(
			"/api/method/frappe.model.workflow.apply_workflow", doc=case.as_json(), action="Take to Court"
		)
		self.assertEqual(response.status_code, 417, response.text[:300])
		self.assertIn("none of your roles may take that action", response.text)
		self.assertEqual(frappe.db.get_value("Grievance", case.name, "workflow_state"), case.workflow_state)

	def test_the_rating_form_posts_without_javascript_and_redirects_to_thanks(self):
		import requests

		from unioncase.tests.rest_client import server_url
		from unioncase.workflows.satisfaction import token_hash

		case = record_consent(
			frappe.get_doc(
				{
					"doctype": "Grievance",
					"subject": "T rated case",
					"owning_union": PUK,
					"reporter_name": "Siti",
				}
			),
			current_consent_text(),
		).insert()
		frappe.db.set_value("Grievance", case.name, "satisfaction_token_hash", token_hash("known-token"))
		frappe.db.commit()
		try:
			response = requests.post(
				f"{server_url()}/api/method/unioncase.workflows.satisfaction.submit_rating",
				data={"token": "known-token", "rating": "5", "comment": "Terima kasih"},
				allow_redirects=False,
				timeout=30,
			)
			self.assertIn(response.status_code, (301, 302, 303), response.text[:300])
			self.assertTrue(response.headers["Location"].endswith("/case-feedback?done=1"))
			frappe.db.rollback()  # read what the server committed
			self.assertEqual(
				frappe.db.get_value(
					"Grievance", case.name, ["satisfaction_rating", "satisfaction_token_hash"]
				),
				(1.0, None),
			)
		finally:
			frappe.delete_doc("Grievance", case.name, force=True)
			frappe.db.commit()


CHILD_META = (
	"name",
	"parent",
	"parentfield",
	"parenttype",
	"idx",
	"creation",
	"modified",
	"owner",
	"modified_by",
)


def admin_editable_state() -> dict:
	"""What the migrate test edits as an admin would: the workflow, a state's style, the kanban board."""
	return {
		"workflow": frappe.get_doc("Workflow", "Grievance Lifecycle").as_dict(),
		"received_style": frappe.db.get_value("Workflow State", "Received", "style"),
		"show_labels": frappe.db.get_value("Kanban Board", "Grievances by Stage", "show_labels"),
		"states": set(frappe.get_all("Workflow State", pluck="name")),
	}


def restore_admin_editable_state(before: dict):
	"""Put back what a committed edit left, so later tests (and the next run) meet the installed lifecycle."""
	workflow = frappe.get_doc("Workflow", "Grievance Lifecycle")
	rows = {
		table: [{k: v for k, v in row.items() if k not in CHILD_META} for row in before["workflow"][table]]
		for table in ("states", "transitions")
	}
	current = {
		table: [
			{k: v for k, v in row.as_dict().items() if k not in CHILD_META} for row in workflow.get(table)
		]
		for table in ("states", "transitions")
	}
	if current != rows:
		for table, table_rows in rows.items():
			workflow.set(table, table_rows)
		workflow.save()
	frappe.db.set_value("Workflow State", "Received", "style", before["received_style"])
	frappe.db.set_value("Kanban Board", "Grievances by Stage", "show_labels", before["show_labels"])
	for state in set(frappe.get_all("Workflow State", pluck="name")) - before["states"]:
		frappe.delete_doc("Workflow State", state, force=True, ignore_permissions=True)
	frappe.db.commit()


def remove_union_with_its_cases(union: str):
	frappe.db.rollback()
	for case in frappe.get_all("Grievance", filters={"owning_union": union}, pluck="name"):
		frappe.delete_doc("Grievance", case, force=True, ignore_permissions=True)
	if frappe.db.exists("Union", union):
		frappe.delete_doc("Union", union, force=True, ignore_permissions=True)
	frappe.db.commit()
