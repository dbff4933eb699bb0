"""A logged-in HTTP session against the site's real web server (started on loopback by the harness)."""

import json
import os

import frappe
import requests

from unioncase.tests.hierarchy_data import PASSWORD


def server_url() -> str:
	return os.environ.get("UNIONCASE_TEST_SERVER") or frappe.utils.get_url()


class RestSession:
	def __init__(self, user: str, password: str = PASSWORD):
		self.base = server_url()
		self.http = requests.Session()
		response = self.http.post(
			f"{self.base}/api/method/login", json={"usr": user, "pwd": password}, timeout=30
		)
		response.raise_for_status()

	def get(self, path: str, **params):
		return self.http.get(f"{self.base}{path}", params=encode(params), timeout=60)

	def post(self, path: str, **data):
		return self.http.post(f"{self.base}{path}", data=encode(data), timeout=60)

	def put(self, path: str, **data):
		return self.http.put(f"{self.base}{path}", json=data, timeout=60)


def encode(params: dict) -> dict:
	return {
		key: value if isinstance(value, str | int) else json.dumps(value) for key, value in params.items()
	}


def api_key_header(user: str) -> str:
	"""An API key and secret for a user, as an integration would send them."""
	doc = frappe.get_doc("User", user)
	doc.api_key = doc.api_key or frappe.generate_hash(length=15)
	secret = frappe.generate_hash(length=15)
	doc.api_secret = secret
	doc.save(ignore_permissions=True)
	return f"token {doc.api_key}:{secret}"


class HeaderSession(RestSession):
	"""A client that authenticates every request by its Authorization header, with no session."""

	def __init__(self, authorization: str):
		self.base = server_url()
		self.http = requests.Session()
		self.http.headers["Authorization"] = authorization
