"""The worker's rating page through the live server: index, rate limits, CSRF with and without a
session, and a token that counts once however many submissions race for it."""

import re
import threading

import frappe
import requests

from unioncase.compat import IntegrationTestCase
from unioncase.privacy.consent import current_consent_text, record_consent
from unioncase.tests.hierarchy_data import ensure_hierarchy
from unioncase.tests.rest_client import RestSession, server_url
from unioncase.workflows import satisfaction

PUK = "T PUK Bogor Satu"
SIGNED_IN = "t.puk.bogor1@test.unioncase.org"
SUBMIT = "/api/method/unioncase.workflows.satisfaction.submit_rating"
REDIRECT = (301, 302, 303)


def rate_counters() -> list[bytes]:
	ip = "127.0.0.1"
	return [
		frappe.cache.make_key(f"unioncase:rate:{bucket}:{ip}")
		for bucket in ("case-feedback-page", "case-feedback-submit")
	]


def form_fields(html: str) -> dict[str, str]:
	return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


class TestSatisfactionPage(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()

	def setUp(self):
		self.reset_rate_limits()
		self.addCleanup(self.reset_rate_limits)
		self.cases = []
		self.addCleanup(self.delete_cases)

	def reset_rate_limits(self):
		for key in rate_counters():
			frappe.cache.delete(key)

	def delete_cases(self):
		for name in self.cases:
			frappe.db.delete("Comment", {"reference_name": name})
			frappe.delete_doc("Grievance", name, force=True)
		frappe.db.commit()

	def case_with_link(self, token: str) -> str:
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
		self.cases.append(case.name)
		frappe.db.set_value("Grievance", case.name, "satisfaction_token_hash", satisfaction.token_hash(token))
		frappe.db.commit()
		return case.name

	def stored(self, name: str):
		frappe.db.rollback()  # read what the server committed
		return frappe.db.get_value(
			"Grievance", name, ["satisfaction_rating", "satisfaction_comment", "satisfaction_token_hash"]
		)

	def ratings_recorded(self, name: str) -> int:
		return frappe.db.count(
			"Comment", {"reference_name": name, "content": ["like", "The worker rated the handling%"]}
		)

	def test_the_token_is_looked_up_on_a_unique_index(self):
		indexes = frappe.db.sql(
			"show index from `tabGrievance` where Column_name = 'satisfaction_token_hash'", as_dict=True
		)
		self.assertTrue(indexes, "no index on satisfaction_token_hash")
		self.assertTrue(any(row.Non_unique == 0 for row in indexes), indexes)
		plan = frappe.db.sql(
			"explain select name from `tabGrievance` where satisfaction_token_hash = %s",
			satisfaction.token_hash("x"),
			as_dict=True,
		)
		self.assertNotEqual(plan[0].type, "ALL", plan)

	def test_a_guest_rates_through_the_page_form(self):
		name = self.case_with_link("guest-token")
		page = requests.get(f"{server_url()}/case-feedback", params={"token": "guest-token"}, timeout=30)
		self.assertEqual(page.status_code, 200)
		fields = form_fields(page.text)
		self.assertEqual(fields, {"token": "guest-token"})  # a guest has no session, so no CSRF token
		response = requests.post(
			f"{server_url()}{SUBMIT}",
			data={**fields, "rating": "4", "comment": "Cepat"},
			allow_redirects=False,
			timeout=30,
		)
		self.assertIn(response.status_code, REDIRECT, response.text[:300])
		self.assertEqual(self.stored(name), (0.8, "Cepat", None))

	def test_a_signed_in_browser_rates_through_the_page_form(self):
		"""The form carries the session's CSRF token; a post without it is refused and changes nothing."""
		name = self.case_with_link("session-token")
		browser = RestSession(SIGNED_IN)
		page = browser.get("/case-feedback", token="session-token")
		self.assertEqual(page.status_code, 200)
		fields = form_fields(page.text)
		self.assertTrue(fields.get("csrf_token"), page.text[:500])

		forged = browser.post(SUBMIT, token="session-token", rating="1")
		self.assertEqual(forged.status_code, 400, forged.text[:300])
		self.assertIn("CSRFTokenError", forged.text)
		self.assertEqual(self.stored(name)[0], 0)

		response = browser.http.post(
			f"{server_url()}{SUBMIT}", data={**fields, "rating": "5"}, allow_redirects=False, timeout=30
		)
		self.assertIn(response.status_code, REDIRECT, response.text[:300])
		self.assertEqual(self.stored(name), (1.0, None, None))

	def test_concurrent_submissions_count_once(self):
		name = self.case_with_link("raced-token")
		start = threading.Barrier(6)
		statuses = []
		url = f"{server_url()}{SUBMIT}"  # frappe.local (the site's host_name) is this thread's only

		def submit(rating: int):
			start.wait()
			response = requests.post(
				url,
				data={"token": "raced-token", "rating": str(rating)},
				allow_redirects=False,
				timeout=60,
			)
			statuses.append(response.status_code)

		threads = [threading.Thread(target=submit, args=(rating,)) for rating in (1, 2, 3, 4, 5, 5)]
		for thread in threads:
			thread.start()
		for thread in threads:
			thread.join()
		self.assertEqual(sum(status in REDIRECT for status in statuses), 1, statuses)
		self.assertEqual(sorted(status for status in statuses if status not in REDIRECT), [417] * 5, statuses)
		rating, _comment, token = self.stored(name)
		self.assertIsNone(token)
		self.assertEqual(self.ratings_recorded(name), 1)
		self.assertIn(rating, {0.2, 0.4, 0.6, 0.8, 1.0})

	def test_bad_ratings_and_long_comments_are_refused_and_leave_the_link_working(self):
		name = self.case_with_link("careful-token")
		for data in (
			{"rating": "9"},
			{"rating": "abc"},
			{"rating": "3", "comment": "x" * (satisfaction.MAX_COMMENT + 1)},
		):
			with self.subTest(data={key: value[:10] for key, value in data.items()}):
				response = requests.post(
					f"{server_url()}{SUBMIT}", data={"token": "careful-token", **data}, timeout=30
				)
				self.assertEqual(response.status_code, 417, response.text[:300])
		self.assertEqual(self.stored(name)[2], satisfaction.token_hash("careful-token"))

	def test_the_page_and_the_form_are_rate_limited_per_visitor(self):
		url = f"{server_url()}/case-feedback"
		statuses = [
			requests.get(url, params={"token": "nothing"}, timeout=30).status_code
			for _ in range(satisfaction.PAGE_VIEWS_PER_HOUR + 1)
		]
		self.assertEqual(statuses[:-1], [200] * satisfaction.PAGE_VIEWS_PER_HOUR)
		self.assertEqual(statuses[-1], 429)
		statuses = [
			requests.post(
				f"{server_url()}{SUBMIT}", data={"token": "nothing", "rating": "3"}, timeout=30
			).status_code
			for _ in range(satisfaction.SUBMISSIONS_PER_HOUR + 1)
		]
		self.assertEqual(statuses[:-1], [417] * satisfaction.SUBMISSIONS_PER_HOUR)
		self.assertEqual(statuses[-1], 429)
