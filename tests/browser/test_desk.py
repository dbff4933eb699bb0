"""The officials' Desk in a real headless Chromium against the test site's live server.

Each step writes a screenshot to artifacts/screenshots/ (CI keeps it as an artefact). Every page's
console errors and uncaught exceptions fail the test, except a refusal the step itself expects.
The assets are built by scripts/test.sh (runtime/desk); Chromium is Debian's, driven by Playwright.
"""

import os
import re
import unittest
from pathlib import Path
from urllib.parse import quote

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.privacy.identity import IDENTITY_ROLE
from unioncase.tests.hierarchy_data import PASSWORD, ensure_hierarchy, ensure_user
from unioncase.tests.privacy_data import new_case
from unioncase.tests.rest_client import server_url

CHROMIUM = os.environ.get("UNIONCASE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
BRANCH = "t.branch.bogor@test.unioncase.org"
SIBLING_BRANCH = "t.branch.riau@test.unioncase.org"
RECORDER = "t.branch.bogor.recorder@test.unioncase.org"  # another official of the same branch
WORKPLACE_OFFICIAL = "t.puk.bogor1@test.unioncase.org"
CUSTODIAN = "t.custodian.desk@test.unioncase.org"
BOARD = "Grievances by Stage"
TIMEOUT_MS = 30_000


class DeskTestCase(IntegrationTestCase):
	"""One Chromium for the class; each `desk(user)` is a fresh logged-in browser context."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		from playwright.sync_api import sync_playwright

		if not Path(CHROMIUM).exists():
			raise RuntimeError(f"No Chromium at {CHROMIUM}: scripts/test.sh installs Debian's chromium")
		cls.cases = ensure_hierarchy()
		cls.playwright = sync_playwright().start()
		cls.browser = cls.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
		SCREENSHOTS.mkdir(parents=True, exist_ok=True)

	@classmethod
	def tearDownClass(cls):
		cls.browser.close()
		cls.playwright.stop()
		super().tearDownClass()

	def setUp(self):
		self.pages = []

	def tearDown(self):
		frappe.set_user("Administrator")
		for page in self.pages:
			page.context.close()

	def desk(self, user: str, password: str = PASSWORD):
		context = self.browser.new_context(viewport={"width": 1400, "height": 900})
		page = context.new_page()
		page.set_default_timeout(TIMEOUT_MS)
		page.errors = []
		page.allowed = []  # patterns of errors a step expects (a refusal it provokes)
		page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
		page.on("pageerror", lambda error: page.errors.append(f"uncaught: {error}"))
		# No socket.io server runs beside the embedded runtime: the Desk must not keep asking for one.
		page.realtime = []
		page.on("request", lambda request: "/socket.io" in request.url and page.realtime.append(request.url))
		login = context.request.post(f"{server_url()}/api/method/login", data={"usr": user, "pwd": password})
		self.assertEqual(login.status, 200, login.text())
		self.pages.append(page)
		return page

	def visit(self, page, path: str, step: str, ready: str):
		page.goto(f"{server_url()}{path}")
		page.wait_for_selector(ready, state="visible")
		page.wait_for_load_state("networkidle")
		self.shot(page, step)

	def shot(self, page, step: str):
		page.screenshot(path=str(SCREENSHOTS / f"{self._testMethodName}-{step}.png"))
		unexpected = [
			error for error in page.errors if not any(re.search(allowed, error) for allowed in page.allowed)
		]
		self.assertEqual(unexpected, [], f"errors on the page at step {step}")
		self.assertEqual(page.realtime, [], f"realtime requests at step {step}")

	def open_action(self, page, action: str):
		page.locator(".page-actions .actions-btn-group > button:visible").first.click()
		page.locator(f".dropdown-menu.show .dropdown-item:has([data-label='{action}'])").first.click()

	def new_case(self, union: str, subject: str, recorder: str = "Administrator", **values):
		frappe.set_user(recorder)
		case = frappe.get_doc(
			{
				"doctype": "Grievance",
				"subject": subject,
				"owning_union": union,
				"workers_affected": 2,
				**values,
			}
		).insert()
		frappe.set_user("Administrator")
		frappe.db.commit()  # the live server reads it
		return case


class TestOfficialsDesk(DeskTestCase):
	def test_a_branch_official_works_a_case_and_a_sibling_branch_cannot_open_it(self):
		ensure_user(RECORDER, "Branch Official", "T Cabang Bogor")
		case = self.new_case("T Cabang Bogor", f"T desk case {frappe.generate_hash(length=6)}", RECORDER)
		self.assertEqual(case.owner, RECORDER)
		page = self.desk(BRANCH)
		self.visit(page, "/app/grievance?status=Open", "1-list", ".list-row-container")
		frappe.set_user(BRANCH)
		in_scope = set(frappe.get_list("Grievance", filters={"status": "Open"}, pluck="name", limit=0))
		frappe.set_user("Administrator")
		shown = set(
			page.locator(".list-row-container .list-subject a[data-name]").evaluate_all(
				"links => links.map(link => link.dataset.name)"
			)
		)
		self.assertIn(case.name, shown)
		self.assertTrue(shown <= in_scope, shown - in_scope)
		self.assertNotIn(self.cases["T Cabang Riau"], shown)

		page.locator(f".list-subject a[data-name='{case.name}']").first.click()
		page.wait_for_selector(f".title-text-form:visible:has-text('{case.subject}')")
		self.shot(page, "2-form")

		self.open_action(page, "Verify")  # recorded by one official of the branch, verified by another
		page.wait_for_selector(".indicator-pill:visible:has-text('Verified')")
		self.shot(page, "3-verified")
		frappe.db.rollback()  # a fresh snapshot: the server moved the case
		self.assertEqual(frappe.db.get_value("Grievance", case.name, "workflow_state"), "Verified")

		self.open_action(page, "Escalate")
		dialog = page.locator(".modal.show")
		dialog.locator("textarea[data-fieldname='reason']").fill(
			"Pengusaha menolak berunding di tingkat cabang"
		)
		self.shot(page, "4-escalation-dialog")
		dialog.locator(".btn-primary").click()
		page.wait_for_selector(".indicator-pill:visible:has-text('Escalated')")
		self.shot(page, "5-escalated")
		frappe.db.rollback()  # a fresh snapshot: the server moved the case
		self.assertEqual(
			frappe.db.get_value("Grievance", case.name, ["workflow_state", "owning_union"]),
			("Escalated", "T Federasi Garmen"),
		)
		self.assertEqual(
			frappe.get_all("Grievance Escalation", filters={"parent": case.name}, pluck="reason"),
			["Pengusaha menolak berunding di tingkat cabang"],
		)

		sibling = self.desk(SIBLING_BRANCH)
		sibling.allowed = [r"status of 403", r"PermissionError", r"Not permitted"]
		sibling.goto(f"{server_url()}/app/grievance/{quote(case.name)}")
		refusal = sibling.locator(".modal.show .modal-body")
		refusal.wait_for(state="visible")
		sibling.wait_for_load_state("networkidle")
		self.shot(sibling, "6-sibling-branch")
		self.assertIn("permission", refusal.inner_text())
		self.assertNotIn(case.subject, sibling.content())
		self.assertEqual(sibling.locator(".title-text-form:visible").filter(has_text=case.subject).count(), 0)

	def test_a_workplace_official_moves_a_card_on_the_kanban_board(self):
		case = self.new_case("T PUK Bogor Satu", f"T desk kanban {frappe.generate_hash(length=6)}")
		page = self.desk(WORKPLACE_OFFICIAL)
		self.visit(page, f"/app/grievance/view/kanban/{quote(BOARD)}", "1-board", ".kanban-column")

		self.assertEqual(self.drag_card(page, case.name, "Verified").status, 200)
		page.locator(
			f".kanban-column[data-column-value='Verified'] .kanban-card-wrapper[data-name='{case.name}']"
		).wait_for(state="visible")
		self.shot(page, "2-moved-to-verified")
		frappe.db.rollback()  # a fresh snapshot: the server moved the case
		self.assertEqual(
			frappe.db.get_value("Grievance", case.name, ["workflow_state", "status"]), ("Verified", "Open")
		)

		# Verified -> Resolved is no transition of the lifecycle: the server refuses, the card goes back.
		page.allowed = [r"status of 417", r"WorkflowPermissionError", r"cannot move"]
		self.assertEqual(self.drag_card(page, case.name, "Resolved").status, 417)
		message = page.locator(".modal.show .modal-body")
		message.wait_for(state="visible")
		self.shot(page, "3-forbidden-move-refused")
		self.assertIn(f"You cannot move {case.name} from Verified to Resolved", message.inner_text())
		page.locator(
			f".kanban-column[data-column-value='Verified'] .kanban-card-wrapper[data-name='{case.name}']"
		).wait_for(state="attached")
		frappe.db.rollback()
		self.assertEqual(frappe.db.get_value("Grievance", case.name, "workflow_state"), "Verified")

	def drag_card(self, page, name: str, stage: str):
		"""The board's Sortable runs in fallback mode (pointer events, 20 px tolerance): a real drag in steps
		(Playwright's drag_to jumps there at once, so no drop). Returns the board's answer to the move."""
		card = page.locator(f".kanban-card-wrapper[data-name='{name}'] .kanban-card")
		target = page.locator(f".kanban-column[data-column-value='{stage}'] .kanban-cards")
		target.scroll_into_view_if_needed()
		card.scroll_into_view_if_needed()
		start, end = card.bounding_box(), target.bounding_box()
		x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
		with page.expect_response(lambda response: "update_order_for_single_card" in response.url) as answer:
			page.mouse.move(x, y)
			page.mouse.down()
			page.mouse.move(x + 30, y + 5, steps=5)  # past the tolerance: the drag starts
			page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 40, steps=15)
			page.mouse.up()
		page.wait_for_load_state("networkidle")
		return answer.value

	def test_the_list_views_and_reports_an_official_works_with(self):
		page = self.desk(BRANCH)
		self.visit(page, "/app/grievance?status=Open", "1-list", ".list-row-container")
		# The standard filters, a filter applied through the Filter popover, and the views menu.
		page.locator("[data-fieldname='severity'] select:visible").select_option("Medium")
		page.wait_for_load_state("networkidle")
		filter_button = page.locator("button.filter-button:visible").first
		filter_button.click()
		page.locator(".filter-popover.show").wait_for()
		self.shot(page, "2-list-filters")
		filter_button.click()  # closes the popover
		page.locator(".filter-popover.show").wait_for(state="detached")
		page.locator("button:visible", has_text="List View").first.click()
		views = page.locator(".dropdown-menu.show .dropdown-item").all_inner_texts()
		self.assertTrue({"Report View", "Kanban View"} <= {view.strip() for view in views}, views)
		self.shot(page, "3-views-menu")
		page.keyboard.press("Escape")

		self.visit(page, "/app/grievance/view/report?status=Open", "4-report-view", ".dt-scrollable .dt-row")
		self.visit(
			page,
			f"/app/query-report/{quote('Grievance Summary')}",
			"5-query-report",
			".report-wrapper .dt-scrollable .dt-row",
		)
		self.assertIn("T Cabang Bogor", page.locator(".report-wrapper").inner_text())
		self.assertNotIn("T Cabang Riau", page.locator(".report-wrapper").inner_text())
		# the analytics reports' filters come from one shared script (public/js/report_filters.js)
		shared = ("union", "category", "kind", "severity", "level", "sector", "employer")
		for report, own, absent in (
			("Case Volume", ("from_date", "to_date", "period", "group_by"), ("stage",)),
			("Open Case Ageing", ("stage",), ("from_date", "group_by")),
		):
			self.visit(
				page,
				f"/app/query-report/{quote(report)}",
				f"6-{report.lower().replace(' ', '-')}",
				".page-form [data-fieldname='union']",
			)
			for fieldname in (*own, *shared):
				self.assertGreater(
					page.locator(f".page-form [data-fieldname='{fieldname}']").count(), 0, fieldname
				)
			for fieldname in absent:
				self.assertEqual(
					page.locator(f".page-form [data-fieldname='{fieldname}']").count(),
					0,
					fieldname,
				)

	def test_the_desk_runs_without_a_realtime_server_and_does_not_keep_asking_for_one(self):
		page = self.desk(BRANCH)
		self.visit(page, "/app/grievance", "1-list", ".list-row-container")
		self.assertTrue(page.evaluate("frappe.boot.disable_async"))
		self.assertTrue(page.evaluate("frappe.realtime.disabled"))
		page.wait_for_timeout(2000)  # socket.io's client connects at once and retries within a second
		page.reload()
		page.wait_for_selector(".list-row-container", state="visible")
		page.wait_for_timeout(1000)
		self.shot(page, "2-after-idle")  # asserts no /socket.io request and no console error

	def test_a_custodian_sees_the_reporter_and_another_official_does_not(self):
		ensure_user(CUSTODIAN, "Branch Official", "T Cabang Bogor")
		frappe.get_doc("User", CUSTODIAN).add_roles(IDENTITY_ROLE)
		frappe.set_user(CUSTODIAN)
		reporter = f"Dewi Desktest {frappe.generate_hash(length=5)}"
		case = new_case(
			{
				"doctype": "Grievance",
				"subject": "T desk confidential",
				"owning_union": "T PUK Bogor Dua",
				"reporter_type": "Non-member",
				"reporter_name": reporter,
				"reporter_phone": "+6281366554499",
				"is_confidential": 1,
				"identity_custodians": [{"user": CUSTODIAN}],
			}
		)
		frappe.set_user("Administrator")
		frappe.db.commit()

		custodian = self.desk(CUSTODIAN)
		self.visit(custodian, f"/app/grievance/{case.name}", "1-custodian", ".form-layout")
		self.assertEqual(custodian.locator("[data-fieldname='reporter_name'] input").input_value(), reporter)

		official = self.desk(BRANCH)
		self.visit(official, f"/app/grievance/{case.name}", "2-official", ".form-layout")
		self.assertNotIn(reporter, official.content())
		self.assertNotIn("+6281366554499", official.content())

	def test_the_union_tree_shows_an_officials_unions_on_first_visit(self):
		page = self.desk(BRANCH)
		self.visit(page, "/app/union/view/tree", "1-tree", ".tree")
		page.locator(".tree-label:has-text('T Cabang Bogor')").first.wait_for(state="visible")
		self.shot(page, "2-tree-nodes")
		self.assertEqual(page.locator(".tree-label:has-text('T Cabang Riau')").count(), 0)

	def test_workspace_number_cards_count_what_the_list_shows(self):
		page = self.desk(BRANCH)
		self.visit(page, "/app/unioncase", "1-workspace", ".widget.number-widget-box")
		frappe.set_user(BRANCH)
		expected = {
			"Open Cases": len(
				frappe.get_list("Grievance", filters={"status": "Open"}, pluck="name", limit=0)
			),
			"Cases Resolved": len(
				frappe.get_list(
					"Grievance", filters={"status": ["in", ["Resolved", "Closed"]]}, pluck="name", limit=0
				)
			),
		}
		frappe.set_user("Administrator")
		self.assertGreater(expected["Open Cases"], 0)
		for label, count in expected.items():
			widget = page.locator(".widget.number-widget-box").filter(
				has=page.locator(".widget-title", has_text=re.compile(f"^{label}$"))
			)
			number = widget.locator(".number")
			number.wait_for(state="visible")
			self.assertEqual(int(re.sub(r"\D", "", number.inner_text()) or 0), count, label)
		self.shot(page, "2-counted")


class TestAdministratorsDesk(DeskTestCase):
	def test_an_admin_adds_a_custom_field_to_grievance_and_sees_it_on_the_form(self):
		label = f"Desk Probe {frappe.generate_hash(length=4)}"
		self.addCleanup(self.drop_custom_fields)
		page = self.desk("Administrator", frappe.conf.get("admin_password") or "admin")
		self.visit(
			page,
			"/app/customize-form?doc_type=Grievance",
			"1-customize-form",
			".form-builder-container .add-field-btn",
		)
		# The form builder: "Add field" under the first field, type Data, its label in the sidebar, Update.
		page.locator(".form-builder-container .add-field-btn:visible").first.click()
		page.locator("#autocomplete-area .autocomplete:visible .combo-box-option").filter(
			has_text=re.compile("^Data$")
		).first.click()
		page.locator(".form-builder-container [data-fieldname='label'] input:visible").fill(label)
		self.shot(page, "2-new-field")
		with page.expect_response(
			lambda response: "save_customization" in (response.request.post_data or "") + response.url
		) as saved:
			page.locator(".page-actions button:visible", has_text="Update").first.click()
		self.assertEqual(saved.value.status, 200, saved.value.text())
		page.wait_for_load_state("networkidle")
		self.shot(page, "3-updated")
		frappe.db.rollback()  # a fresh snapshot: the server saved the field
		fieldname = frappe.db.get_value("Custom Field", {"dt": "Grievance", "label": label}, "fieldname")
		self.assertTrue(fieldname, "no Custom Field was saved")
		self.assertTrue(frappe.db.has_column("Grievance", fieldname))

		case = self.cases["T Cabang Bogor"]
		field = f".form-layout [data-fieldname='{fieldname}']"
		self.visit(page, f"/app/grievance/{case}", "4-grievance-form", field)
		self.assertIn(label, page.locator(field).first.inner_text())

	def test_the_workflow_form_opens(self):
		page = self.desk("Administrator", frappe.conf.get("admin_password") or "admin")
		self.visit(page, f"/app/workflow/{quote('Grievance Lifecycle')}", "1-workflow", ".form-layout")
		page.locator(".title-text-form:visible", has_text="Grievance Lifecycle").wait_for()
		# The grid shows a page of 50 of the lifecycle's transitions; the first is the first saved.
		rows = page.locator("[data-fieldname='transitions'] .grid-body .rows > .grid-row")
		rows.first.scroll_into_view_if_needed()
		workflow = frappe.get_doc("Workflow", "Grievance Lifecycle")
		self.assertEqual(rows.count(), min(len(workflow.transitions), 50))
		first = workflow.transitions[0]
		self.assertIn(first.action, rows.first.inner_text())
		self.assertIn(first.state, rows.first.inner_text())
		self.shot(page, "2-transitions")

	def drop_custom_fields(self):
		frappe.db.rollback()
		for name in frappe.get_all(
			"Custom Field", {"dt": "Grievance", "label": ["like", "Desk Probe%"]}, pluck="name"
		):
			frappe.delete_doc("Custom Field", name, force=True)
		frappe.db.commit()


if __name__ == "__main__":
	unittest.main()
