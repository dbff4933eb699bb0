"""A worker's phone reports on /lapor and follows the case on /kasus, in a real headless Chromium,
with JavaScript disabled and enabled; an official of the case's union replies over REST and the
worker reads the reply on the tracking page. Screenshots go to artifacts/screenshots/; console
errors and uncaught exceptions fail the test (the helpers of test_desk.py)."""

import frappe

from tests.browser.test_desk import SCREENSHOTS, TIMEOUT_MS, DeskTestCase
from unioncase.intake import inbox, tracking
from unioncase.tests.intake_data import reset_limits
from unioncase.tests.rest_client import RestSession, server_url

BOGOR = "T PUK Bogor Satu"
BOGOR_BRANCH = "t.branch.bogor@test.unioncase.org"
REPLY = "/api/method/unioncase.intake.conversation.reply"
PHONE = {"width": 360, "height": 740}


class TestWorkerPages(DeskTestCase):
	def setUp(self):
		super().setUp()
		reset_limits()
		SCREENSHOTS.mkdir(parents=True, exist_ok=True)

	def tearDown(self):
		reset_limits()
		super().tearDown()

	def phone(self, javascript: bool):
		context = self.browser.new_context(
			viewport=PHONE, java_script_enabled=javascript, is_mobile=True, has_touch=True
		)
		page = context.new_page()
		page.set_default_timeout(TIMEOUT_MS)
		page.errors, page.allowed, page.realtime = [], [], []
		page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
		page.on("pageerror", lambda error: page.errors.append(f"uncaught: {error}"))
		page.failed = []
		page.on("response", lambda response: response.status >= 400 and page.failed.append(response.url))
		self.pages.append(page)
		return page

	def report_and_follow(self, javascript: bool):
		page = self.phone(javascript)
		page.goto(f"{server_url()}/lapor?serikat={BOGOR}")
		page.wait_for_selector("form textarea#description", state="visible")
		self.shot(page, "1-form")
		self.assertEqual(page.failed, [], "nothing the page loads is missing")
		width = page.evaluate("document.documentElement.scrollWidth")
		self.assertLessEqual(width, PHONE["width"], "the form fits a phone without scrolling sideways")

		# First a refusal: the consent box left unticked, what was typed kept.
		story = f"Upah lembur bulan Oktober tidak dibayar {frappe.generate_hash(length=6)}"
		page.fill("#workplace", "PT Sinar Garmen, Bogor")
		page.fill("#description", story)
		page.locator("input[name=consent]").evaluate("box => box.removeAttribute('required')")
		page.allowed = [r"status of 400"]  # the refused form comes back as 400 Bad Request
		page.click("button[type=submit]")
		page.wait_for_selector("#consent-err", state="visible")
		self.assertEqual(
			[url for url in page.failed if "/lapor" not in url], [], "nothing the page loads is missing"
		)
		self.shot(page, "2-refused")
		page.allowed, page.errors[:] = [], []  # that refusal was the expected one
		self.assertEqual(page.input_value("#description"), story)

		page.check("input[name=consent]")
		page.click("button[type=submit]")
		code = page.locator("#tracking-code").inner_text().strip()
		self.shot(page, "3-code")
		self.assertRegex(code, r"^[0-9A-Z]+(-[0-9A-Z]+)+$")
		frappe.db.rollback()  # see what the server committed
		mine = frappe.get_all(
			inbox.INBOUND,
			filters={"tracking_code_hash": tracking.code_hash(tracking.normalise(code))},
			pluck="name",
		)
		self.assertEqual(len(mine), 1, "the report is stored once")
		self.assertEqual(frappe.db.get_value(inbox.INBOUND, mine[0], "union"), BOGOR)
		self.assertIn(story, inbox.payload_of(frappe.get_doc(inbox.INBOUND, mine[0]))["description"])
		self.assertEqual(inbox.process_message(mine[0]), "Processed")  # the inbox's job
		case = frappe.db.get_value(inbox.INBOUND, mine[0], "grievance")
		frappe.db.commit()

		page.locator("a[href*='/kasus?kode=']").first.click()
		page.wait_for_selector("#stage", state="visible")
		self.shot(page, "4-tracking")
		self.assertIn(code, page.url)
		self.assertEqual(page.locator("#no-messages").count(), 1)

		answer = f"Kami sudah menghubungi HRD {frappe.generate_hash(length=6)}."
		sent = RestSession(BOGOR_BRANCH).post(REPLY, case=case, message=answer)
		self.assertEqual(sent.status_code, 200, sent.text)
		self.assertEqual(sent.json()["message"]["delivery_status"], "Sent")

		page.reload()
		page.wait_for_selector(f".msg:has-text('{answer}')", state="visible")
		self.shot(page, "5-reply")
		self.assertEqual(page.locator("#no-messages").count(), 0)
		return case

	def test_a_report_without_javascript_is_followed_to_the_officials_reply(self):
		self.report_and_follow(javascript=False)

	def test_a_report_with_javascript_is_followed_to_the_officials_reply(self):
		self.report_and_follow(javascript=True)
