"""Whitelisted methods: every parameter typed, state changes only by POST (a GET is refused and
changes nothing), and hooks that install on an offline bench."""

import importlib
import inspect
import pkgutil

import frappe

import unioncase
from unioncase.compat import IntegrationTestCase
from unioncase.privacy.audit import ACCESS_LOG, log_identity_access
from unioncase.tests.hierarchy_data import ensure_hierarchy
from unioncase.tests.privacy_data import make_case, make_member, make_website_user
from unioncase.tests.rest_client import RestSession

# What may change state, by its path, with arguments naming nothing that exists: each answers only POST.
STATE_CHANGING = {
	"unioncase.privacy.consent.withdraw_consent": {"member": "T no such member"},
	"unioncase.privacy.member_export.export_member_data": {"member": "T no such member"},  # Access Log
	"unioncase.privacy.erasure.erase_member": {"member": "T no such member"},
	"unioncase.workflows.escalation.escalate": {"name": "T no such case", "reason": "x"},
	"unioncase.workflows.actions.apply_workflow": {
		"doc": {"doctype": "Grievance", "name": "T none"},
		"action": "x",
	},
	"unioncase.workflows.satisfaction.submit_rating": {"token": "T no such token", "rating": 3},
	"unioncase.intake.inbox.retry": {"name": "T no such message"},
	"unioncase.intake.inbox.merge": {"name": "T no such message", "case": "T no such case"},
	"unioncase.intake.conversation.reply": {"case": "T no such case", "message": "x"},
	"unioncase.reports.export.start_export": {"union": "T no such union"},  # queues a job, logs it
	"unioncase.privacy.consent.record_broadcast_consent": {"member": "T no such member", "given": 1},
	"unioncase.intake.broadcast.send": {"name": "T no such broadcast"},  # delivery rows, queues a job
}
# Everything else the app whitelists only reads. A new method must be put in one of the two.
READ_ONLY = (
	"unioncase.hierarchy.api.get_count",
	"unioncase.hierarchy.api.global_search",
	"unioncase.hierarchy.api.get_union_tree_nodes",
	"unioncase.workflows.views.my_unions",
	"unioncase.intake.conversation.get_conversation",
	"unioncase.reports.api.group_by_choices",
	"unioncase.reports.cards.unanswered_inbound_messages",
	"unioncase.compat.linked_with_get",
	"unioncase.intake.broadcast.preview",
	"unioncase.intake.broadcast.template_choices",
	"unioncase.intake.broadcast.status_of",
)
# Provider webhooks, with the HTTP methods each answers: GET is only WhatsApp's subscription handshake
# (stores nothing), POST is authenticated by the provider's signature or shared secret, not a session
# (unioncase/intake/test_whatsapp.py, test_sms.py).
WEBHOOKS = {
	"unioncase.intake.whatsapp.webhook": ["GET", "POST"],
	"unioncase.intake.sms.webhook": ["POST"],
}
ADMIN = "t.admin@test.unioncase.org"  # a Union Administrator: no permission check refuses them


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
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()

	def test_every_whitelisted_method_is_classified(self):
		self.assertEqual(sorted(app_whitelisted()), sorted([*STATE_CHANGING, *READ_ONLY, *WEBHOOKS]))
		for path, methods in WEBHOOKS.items():
			self.assertEqual(
				sorted(frappe.allowed_http_methods_for_whitelisted_func[app_whitelisted()[path]]), methods
			)
			self.assertIn(app_whitelisted()[path], frappe.guest_methods)

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
			self.assertIn(path, methods)
			with self.subTest(method=path):
				self.assertEqual(frappe.allowed_http_methods_for_whitelisted_func[methods[path]], ["POST"])

	def test_a_get_to_any_state_changing_method_is_refused_over_rest(self):
		"""403 for the GET; the same call by POST gets past that check (another answer than 403), so
		the refusal is the method check and not a permission the arguments happen to miss."""
		session = RestSession(ADMIN)
		for path, arguments in STATE_CHANGING.items():
			with self.subTest(method=path):
				refused = session.get(f"/api/method/{path}", **arguments)
				self.assertEqual(refused.status_code, 403, refused.text[:300])
				self.assertEqual(refused.json().get("exc_type"), "PermissionError", refused.text[:300])
				posted = session.post(f"/api/method/{path}", **arguments)
				self.assertNotIn(posted.status_code, (403, 405), posted.text[:300])
				self.assertLess(posted.status_code, 500, posted.text[:300])

	def test_the_audit_entry_survives_a_rollback_alone(self):
		"""A GET's writes are rolled back after it answers; the identity access entry is written again
		and committed, and the request's other writes are not."""
		other = frappe.get_doc({"doctype": "ToDo", "description": f"T other write {frappe.generate_hash()}"})
		other.insert(ignore_permissions=True)
		frappe.set_user(ADMIN)
		case = frappe.get_all("Grievance", limit=1, pluck="name")[0]
		before = frappe.db.count(ACCESS_LOG, {"reference_name": case, "user": ADMIN})
		log_identity_access("View", "Grievance", case)
		frappe.set_user("Administrator")
		frappe.db.rollback()  # what Frappe does after a GET (and after an error)
		self.assertEqual(frappe.db.count(ACCESS_LOG, {"reference_name": case, "user": ADMIN}), before + 1)
		self.assertFalse(frappe.db.exists("ToDo", other.name))

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
