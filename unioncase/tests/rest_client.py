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
