"""Whitelisted methods: every parameter typed, state changes only by POST (a GET is refused and
changes nothing), and hooks that install on an offline bench."""

import importlib
import inspect
import pkgutil

import frappe

import unioncase
from unioncase.compat import IntegrationTestCase
from unioncase.tests.privacy_data import make_case, make_member, make_website_user
from unioncase.tests.rest_client import RestSession

# What may change state, by its path: each answers only POST.
STATE_CHANGING = (
	"unioncase.privacy.consent.withdraw_consent",
	"unioncase.workflows.escalation.escalate",
	"unioncase.workflows.actions.apply_workflow",
	"unioncase.workflows.satisfaction.submit_rating",
)


def app_whitelisted() -> dict:
	for module in pkgutil.walk_packages(unioncase.__path__, "unioncase."):
		if ".test_" not in module.name and not module.name.startswith("unioncase.patches"):
			importlib.import_module(module.name)
	return {
		f"{fn.__module__}.{fn.__qualname__}": fn
		for fn in frappe.whitelisted
		if getattr(fn, "__module__", "").startswith("unioncase.")
	}


class TestApiMethods(IntegrationTestCase):
	def test_every_whitelisted_parameter_is_typed(self):
		self.assertTrue(frappe.get_hooks("require_type_annotated_api_methods", app_name="unioncase"))
		methods = app_whitelisted()
		self.assertGreaterEqual(len(methods), 9, sorted(methods))
		untyped = [
			f"{path}({name})"
			for path, fn in methods.items()
			for name, parameter in inspect.signature(inspect.unwrap(fn)).parameters.items()
			if parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL)
			and parameter.annotation is inspect.Parameter.empty
		]
		self.assertEqual(untyped, [])

	def test_state_changing_methods_answer_only_post(self):
		methods = app_whitelisted()
		for path in STATE_CHANGING:
			with self.subTest(method=path):
				self.assertEqual(frappe.allowed_http_methods_for_whitelisted_func[methods[path]], ["POST"])

	def test_a_get_to_withdraw_consent_is_refused_and_changes_nothing(self):
		email = make_website_user(f"worker-{frappe.generate_hash(length=6)}@example.org")
		member = make_member(email=email)
		case = make_case(member.name)
		frappe.db.commit()
		response = RestSession(email).get(
			"/api/method/unioncase.privacy.consent.withdraw_consent", member=member.name
		)
		self.assertEqual(response.status_code, 403, response.text[:300])
		frappe.db.commit()  # a fresh snapshot: read what the server committed
		self.assertEqual(frappe.db.get_value("Grievance", case.name, "member"), member.name)
		self.assertFalse(
			frappe.db.exists("Consent Event", {"reference_name": member.name, "event": "Withdrawn"})
		)

	def test_frappe_is_not_a_required_app(self):
		"""v15 resolves every required app on GitHub: `bench install-app` fails offline."""
		self.assertNotIn("frappe", frappe.get_hooks("required_apps", app_name="unioncase"))
