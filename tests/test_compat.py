"""The monoframe compatibility layer (runtime/monoframe_compat): a second app on the single-app fork."""

import importlib
import subprocess
import sys
import types
import unittest
from pathlib import Path

import frappe
import monoframe
from monoframe_compat import patches


class TestCompat(unittest.TestCase):
	def test_frappe_is_monoframe_module_for_module(self):
		import frappe.model.document
		import monoframe.model.document

		self.assertIs(frappe, monoframe)
		self.assertIs(frappe.model.document, monoframe.model.document)
		self.assertIs(frappe.model.document.Document, monoframe.model.document.Document)

	def test_only_the_pinned_version_is_patched(self):
		self.assertEqual(monoframe.__version__, patches.PINNED_VERSION)
		with self.assertRaisesRegex(RuntimeError, "patches monoframe==0.0.1"):
			patches.check_version(types.SimpleNamespace(__version__="0.0.2"))

	def test_the_app_is_installed_beside_the_framework(self):
		self.assertEqual(frappe.get_installed_apps(), ["monoframe", "unioncase"])
		self.assertEqual(frappe.get_all_apps(), ["monoframe", "unioncase"])
		self.assertEqual(
			frappe.get_app_path("unioncase", "hooks.py"), importlib.import_module("unioncase.hooks").__file__
		)
		self.assertEqual(frappe.local.module_app["unioncase"], "unioncase")
		self.assertEqual(frappe.db.get_value("Module Def", "UnionCase", "app_name"), "unioncase")

	def test_hooks_of_both_apps_merge_and_stay_separable(self):
		self.assertIn(
			"unioncase.hierarchy.permissions.grievance_query",
			frappe.get_hooks("permission_query_conditions")["Grievance"],
		)
		self.assertIn("Event", frappe.get_hooks("permission_query_conditions"))
		self.assertEqual(
			frappe.get_hooks("after_install", app_name="unioncase"), ["unioncase.setup.install.after_install"]
		)

	def test_app_overrides_of_frappe_methods_cover_their_monoframe_names(self):
		for name in ("frappe.client.get_count", "monoframe.client.get_count"):
			self.assertEqual(frappe.override_whitelisted_method(name), "unioncase.hierarchy.api.get_count")
		self.assertEqual(
			frappe.override_whitelisted_method("frappe.client.get_list"), "frappe.client.get_list"
		)

	def test_migrate_syncs_and_patches_every_installed_app(self):
		from frappe.model import sync

		synced = []
		original = sync.sync_for
		sync.sync_for = lambda app, *args, **kwargs: synced.append(app)
		try:
			sync.sync_all()
		finally:
			sync.sync_for = original
		self.assertEqual(synced, ["monoframe", "unioncase"])

		from frappe.patches import get_all_patches, get_patches_from_app

		self.assertEqual(
			get_all_patches(), get_patches_from_app("monoframe") + get_patches_from_app("unioncase")
		)

	def test_missing_test_helper_module_exists(self):
		from frappe.tests.utils.generators import _clear_test_log

		self.assertIsNone(_clear_test_log())
		self.assertIn("monoframe.tests.utils.generators", sys.modules)

	def test_alias_keeps_the_real_module_spec(self):
		self.assertEqual(monoframe.__spec__.name, "monoframe")
		self.assertEqual(frappe.model.__spec__.name, "monoframe.model")

	def test_templates_render_with_app_jinja_filters(self):
		self.assertTrue(frappe.local.site)
		self.assertEqual(frappe.render_template("{{ 'x' | upper }}-{{ 3 | int }}", {}), "X-3")
		self.assertEqual(frappe.render_template("{{ frappe.bold('x') }}", {}), "<strong>x</strong>")

	def test_background_workers_run_jobs_named_after_frappe(self):
		key = f"compat_check_{frappe.generate_hash(length=8)}"
		frappe.enqueue("frappe.defaults.set_global_default", key=key, value="ran", queue="short")
		frappe.db.commit()
		worker = subprocess.run(
			[Path(sys.executable).with_name("monoframe"), "worker", "--burst", "--queue", "short"],
			capture_output=True,
			text=True,
			timeout=120,
		)
		self.assertEqual(worker.returncode, 0, worker.stderr[-2000:])
		frappe.db.rollback()
		frappe.clear_cache()
		self.assertEqual(frappe.db.get_default(key), "ran", worker.stderr[-2000:])
		frappe.db.delete("DefaultValue", {"defkey": key})
		frappe.db.commit()

	def test_passwords_encrypted_in_one_process_decrypt_in_another(self):
		from frappe.utils.password import encrypt

		token = encrypt("kata-sandi-email")
		program = (
			"import frappe; frappe.init(); from frappe.utils.password import decrypt; "
			f"print(decrypt({token!r}))"
		)
		other = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
		self.assertEqual(other.stdout.strip(), "kata-sandi-email", other.stderr[-2000:])

	def test_a_missing_frappe_module_is_reported_by_its_frappe_name(self):
		with self.assertRaisesRegex(ModuleNotFoundError, "No module named 'frappe.no_such_module'"):
			importlib.import_module("frappe.no_such_module")


class TestBadRequests(unittest.TestCase):
	"""Requests monoframe (and Frappe) answer with a 500: the runtime makes them a 417 that says why."""

	@classmethod
	def setUpClass(cls):
		from unioncase.tests.hierarchy_data import ensure_hierarchy
		from unioncase.tests.rest_client import RestSession

		frappe.set_user("Administrator")
		cls.case = ensure_hierarchy()["T Cabang Bogor"]
		cls.session = RestSession("t.branch.bogor@test.unioncase.org")

	def send(self, method: str, path: str, body: str):
		return self.session.http.request(
			method,
			f"{self.session.base}{path}",
			data=body,
			headers={"Content-Type": "application/json"},
			timeout=60,
		)

	def test_a_body_that_is_not_a_json_object_is_refused(self):
		before = frappe.db.count("Grievance")
		for path in ("/api/resource/Grievance", "/api/v2/document/Grievance"):
			for body in ("[1,2]", "5", '"text"', "null"):
				with self.subTest(path=path, body=body):
					response = self.send("POST", path, body)
					self.assertGreaterEqual(response.status_code, 400, response.text[:300])
					self.assertLess(response.status_code, 500, response.text[:300])
		for body in ("[1,2]", "5"):
			with self.subTest(body=body):
				response = self.send("POST", "/api/resource/Grievance", body)
				self.assertEqual(response.status_code, 417, response.text[:300])
				if body == "[1,2]":  # a number is refused earlier, by the request parser
					self.assertIn("must be a JSON object", response.text)
				response = self.send("PUT", f"/api/resource/Grievance/{self.case}", body)
				self.assertEqual(response.status_code, 417, response.text[:300])
		frappe.db.rollback()  # a fresh snapshot: read what the server committed
		self.assertEqual(frappe.db.count("Grievance"), before)

	def test_a_whitelisted_method_without_a_required_argument_is_refused_naming_it(self):
		response = self.session.post("/api/method/unioncase.workflows.escalation.escalate", reason="x")
		self.assertEqual(response.status_code, 417, response.text[:300])
		self.assertIn("Missing argument: name", response.text)
		# an argument that is given is not asked for
		response = self.session.post(
			"/api/method/unioncase.workflows.escalation.escalate", name="T no such case", reason="x"
		)
		self.assertNotIn("Missing argument", response.text)
		self.assertLess(response.status_code, 500, response.text[:300])
