"""Property-based tests (hypothesis) of the reporting page: generated submissions (empty, emoji-only,
oversized, markup, NUL and other controls, bidi overrides, header-injection attempts, arrays and
objects where text is expected) posted over HTTP to the live test server, as a phone's browser (a
form post) or a script (a JSON body) sends them. Never a 500; every accepted report stored exactly
once however often it is sent; every refused one explained beside its field, with what was typed kept.

The number of examples comes from the settings profile: UNIONCASE_HYPOTHESIS_PROFILE=thorough runs
thousands (the default "ci" profile runs a few hundred)."""

import html
import json
import os
import re

import frappe
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from unioncase.compat import IntegrationTestCase
from unioncase.intake import inbox, tracking, web
from unioncase.tests.hierarchy_data import ensure_hierarchy
from unioncase.tests.intake_data import CODE, WorkerBrowser, reset_limits

BOGOR = "T PUK Bogor Satu"
TEXT_FIELDS = ("workplace", "description", "name", "contact")
ERROR = re.compile(r'id="(\w+)-err"')

settings.register_profile(
	"ci", max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
settings.register_profile(
	"thorough", max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck)
)
PROFILE = settings.get_profile(os.environ.get("UNIONCASE_HYPOTHESIS_PROFILE", "ci"))

ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
AWKWARD = st.sampled_from(
	[
		"",
		" ",
		"😡😡😡",
		"👷‍♀️" * 12,
		"<script>alert(1)</script>",
		"<b>tebal</b> & 'kutip' \"ganda\"",
		"\x00",
		"Upah\x00tidak dibayar sama sekali",
		"\u202eDIBAYAR TIDAK\u202c upah lembur kami",
		"\u2066\u2067\u2068\u2069\u200e\u200f",
		"x\r\nSet-Cookie: uc_evil=1",
		"x\r\nX-Injected: 1\r\n\r\n<h1>body</h1>",
		"%0d%0aX-Injected:%201",
		"0812-3456-7890",
		"nama@contoh.id",
		"a@b.c, d@e.f",
		"Pekerja dipaksa lembur tanpa bayaran setiap Sabtu.",
		"{{ 7*7 }} {% raw %}",
	]
)
OVERSIZED = st.sampled_from(["W" * 141, "kata " * 1001, "😡" * 5001, "1" * 300]).map(str)
TEXT = st.one_of(AWKWARD, ANY_TEXT, OVERSIZED, st.lists(AWKWARD, min_size=2, max_size=4).map(" ".join))
NOT_TEXT = st.one_of(
	st.lists(AWKWARD, max_size=3),
	st.dictionaries(st.sampled_from(["a", "$ne"]), AWKWARD, max_size=2),
	st.integers(),
	st.booleans(),
	st.none(),
)


@st.composite
def submissions(draw) -> tuple[str, dict]:
	"""(how it is sent: "form" or "json", the fields)."""
	as_json = draw(st.integers(0, 4)) == 0
	good = {
		"workplace": "PT Sinar Garmen, Bogor",
		"description": "Upah lembur bulan Oktober tidak dibayar untuk seluruh jalur jahit.",
		"anonymity": "anonim",
		"consent": "1",
		"name": "",
		"contact": "",
	}
	fields = {}
	for key, value in good.items():
		choice = draw(st.integers(-2, 3))  # half the fields as a careful worker fills them
		if choice <= 0:
			fields[key] = value
		elif choice == 1 and as_json:
			fields[key] = draw(NOT_TEXT)
		elif choice == 1 or key in ("anonymity", "consent"):
			fields[key] = draw(st.one_of(st.sampled_from(["anonim", "nama", "1", "0", ""]), AWKWARD))
		else:
			fields[key] = draw(TEXT)
	if not as_json:
		fields = {key: value for key, value in fields.items() if value is not None}
	return ("json" if as_json else "form"), fields


class TestReportPageProperties(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		# Many reports from one test address: the limit is lifted here, never in the app.
		frappe.db.set_single_value("Intake Settings", "reports_per_hour", 100_000)
		frappe.db.commit()
		reset_limits()
		cls.worker = WorkerBrowser()

	@classmethod
	def tearDownClass(cls):
		frappe.db.set_single_value("Intake Settings", "reports_per_hour", 0)
		frappe.db.commit()
		reset_limits()
		super().tearDownClass()

	def send(self, how: str, fields: dict, token: str):
		body = {**fields, "form_token": token, "lang": "id", "union": BOGOR}
		url = f"{self.worker.base}/lapor"
		if how == "json":
			return self.worker.http.post(
				url, data=json.dumps(body), timeout=60, headers={"Content-Type": "application/json"}
			)
		return self.worker.http.post(url, data=body, timeout=60)

	@PROFILE
	@given(submission=submissions(), sends=st.integers(1, 2))
	def test_any_submission_is_stored_once_or_refused_by_field(self, submission, sends):
		how, fields = submission
		token = self.worker.form_token("/lapor")
		pages = [self.send(how, fields, token) for _ in range(sends)]
		for page in pages:
			self.assertIn(page.status_code, (200, 400), f"{page.status_code} for {how} {fields!r}")
			self.assertEqual(page.headers.get("Content-Type", "").split(";")[0], "text/html")
			self.assertNotIn("X-Injected", page.headers)
			self.assertNotIn("uc_evil", page.headers.get("Set-Cookie", ""))
		event(f"{how} {pages[0].status_code}")
		statuses = {page.status_code for page in pages}
		self.assertEqual(len(statuses), 1, "the same form sent again gets the same answer")
		page = pages[0]
		frappe.db.rollback()  # see what the server committed
		if page.status_code == 200:
			codes = {CODE.search(sent.text).group(1) for sent in pages}
			self.assertEqual(len(codes), 1, "sent twice, one code")
			(code,) = codes
			stored = frappe.get_all(
				inbox.INBOUND,
				filters={"tracking_code_hash": tracking.code_hash(tracking.normalise(code))},
				pluck="name",
			)
			self.assertEqual(len(stored), 1, f"stored exactly once: {fields!r}")
			payload = inbox.payload_of(frappe.get_doc(inbox.INBOUND, stored[0]))
			self.assertEqual(payload["description"], web.clean_text(fields["description"], multiline=True))
			self.assertEqual(payload["workplace"], web.clean_text(fields["workplace"]))
			for text in (payload["description"], payload["workplace"], payload["name"] or ""):
				self.assertFalse(set(text) & {"\x00", "\u202e", "\r"}, repr(text))
			return
		explained = set(ERROR.findall(page.text))
		self.assertTrue(explained, f"a refusal names what to fix: {fields!r}")
		self.assertIn('name="form_token"', page.text, "the corrected form can be sent again")
		self.assertNotIn("<script>alert", page.text, "what was typed is escaped")
		text = html.unescape(page.text)
		for field in TEXT_FIELDS:
			value = fields.get(field)
			if isinstance(value, str):
				self.assertIn(value, text, f"what was typed in {field} is kept")
			elif value is not None and field in fields:
				self.assertIn(field, explained, f"{field}={value!r} is not text")
		if fields.get("consent") != "1":
			self.assertIn("consent", explained)
