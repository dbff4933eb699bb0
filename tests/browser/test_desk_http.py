"""What the test site's live web server serves beside the Desk, over raw HTTP (no browser).

Paths are sent exactly as written (no client-side normalisation of `..` or `%2e`), as an attacker would.
"""

import http.client
import json
from urllib.parse import urlsplit

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.tests.rest_client import RestSession, server_url

# Each names a file that exists on disk outside the asset folders (secrets, server code, raw sources).
OUTSIDE_THE_ASSETS = [
	"/assets/../.env",
	"/assets/..%2f.env",
	"/assets/%2e%2e/.env",
	"/assets/%2e%2e%2f.env",
	"/assets/monoframe/../../.env",
	"/assets/monoframe/dist/../../../.env",
	"/files/../.env",
	"/files/..%2f..%2f.env",
	"/.env",
	"/assets/unioncase/../hooks.py",
	"/assets/unioncase/..%2fhooks.py",
	"/assets/unioncase/js/../../hooks.py",
	"/assets/unioncase/%2e%2e/unioncase/doctype/grievance/grievance.py",
	"/assets/monoframe/hooks.py",
	"/assets/monoframe/js/frappe/desk.js",  # the Desk's sources: only the built bundles are served
	"/assets/monoframe/public/js/frappe/desk.js",
	"/assets/monoframe/js/lib/../../../hooks.py",
	"/assets/monoframe/css/../../hooks.py",
	"/assets//etc/passwd",
	"/assets/%2fetc%2fpasswd",
	"/hooks.py",
	"/unioncase/hooks.py",
]


def raw_get(path: str):
	"""GET `path` byte for byte as given; (status, body)."""
	address = urlsplit(server_url())
	connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
	try:
		connection.putrequest("GET", path, skip_accept_encoding=True)
		connection.endheaders()
		response = connection.getresponse()
		return response.status, response.read().decode("utf-8", "replace")
	finally:
		connection.close()


class TestWhatTheServerServes(IntegrationTestCase):
	def test_built_assets_are_served(self):
		# The control: the same raw client does reach the asset folders.
		status, body = raw_get("/assets/assets.json")
		self.assertEqual(status, 200, body[:200])
		desk_bundle = json.loads(body)["desk.bundle.js"]
		status, body = raw_get(desk_bundle)
		self.assertEqual(status, 200)
		self.assertIn("monoframe", body)
		status, _ = raw_get("/assets/unioncase/js/masking.js")  # the app's public folder, as on a bench
		self.assertEqual(status, 200)

	def test_path_traversal_and_sources_outside_the_asset_folders_answer_404(self):
		secrets = [value for key, value in read_site_env().items() if "PASSWORD" in key or "KEY" in key]
		self.assertTrue(secrets)
		for path in OUTSIDE_THE_ASSETS:
			with self.subTest(path=path):
				status, body = raw_get(path)
				self.assertEqual(status, 404, body[:200])
				for secret in secrets:
					self.assertNotIn(secret, body)
				self.assertNotIn("def ", body)  # no Python source either


class TestLinkValidation(IntegrationTestCase):
	def test_the_desks_link_check_with_ignore_user_permissions_0_is_not_a_refusal(self):
		# The Desk sends the flag as the string "0"; the fork skipped the conversion to bool, so "0" was
		# true and every Link field without the flag was refused (runtime/monoframe_compat/desk.py).
		frappe.set_user("Administrator")
		frappe.get_doc({"doctype": "Grievance Category", "category_name": "T Desk Link Check"}).insert(
			ignore_if_duplicate=True
		)
		frappe.db.commit()
		session = RestSession("t.branch.bogor@test.unioncase.org")
		response = session.get(
			"/api/method/frappe.client.validate_link_and_fetch",
			doctype="Grievance Category",
			docname="T Desk Link Check",
			ignore_user_permissions="0",
			reference_doctype="Grievance",
			link_fieldname="category",
		)
		self.assertEqual(response.status_code, 200, response.text[:300])
		self.assertEqual(response.json()["message"], {"name": "T Desk Link Check"})
		# Asking to ignore user permissions on a field that does not allow it stays refused.
		response = session.get(
			"/api/method/frappe.client.validate_link_and_fetch",
			doctype="Grievance Category",
			docname="T Desk Link Check",
			ignore_user_permissions="1",
			reference_doctype="Grievance",
			link_fieldname="category",
		)
		self.assertEqual(response.status_code, 417, response.text[:300])
		self.assertIn("does not allow ignoring user permissions", response.text)


def read_site_env() -> dict:
	from pathlib import Path

	from monoframe_compat.site import read_env

	return read_env(Path(__file__).resolve().parents[2] / "sites" / "test")
