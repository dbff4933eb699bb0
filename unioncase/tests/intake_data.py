"""A worker's browser for the reporting and tracking pages (plain form posts, no JavaScript), and
reports stored straight into the inbox, for the intake tests."""

import html
import re

import frappe
import requests

from unioncase.intake import inbox, limits
from unioncase.tests.privacy_data import consent_text
from unioncase.tests.rest_client import server_url

TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
CODE = re.compile(r'id="tracking-code">([0-9A-Z-]+)<')
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


class WorkerBrowser:
	"""One phone's browser: its own cookies, posting the forms the pages render."""

	def __init__(self):
		self.base = server_url()
		self.http = requests.Session()

	def get(self, path: str, **params) -> requests.Response:
		return self.http.get(f"{self.base}{path}", params=params, timeout=60)

	def form_token(self, path: str = "/lapor", **params) -> str:
		page = self.get(path, **params)
		page.raise_for_status()
		return TOKEN.search(page.text).group(1)

	def report(
		self, path: str = "/lapor", files=None, token: str | None = None, **fields
	) -> requests.Response:
		data = {
			"workplace": "PT Sinar Garmen, Bogor",
			"description": "Upah lembur bulan Oktober tidak dibayar untuk seluruh jalur jahit.",
			"anonymity": "anonim",
			"consent": "1",
			"lang": "id",
			"form_token": token or self.form_token(path),
		}
		data.update(fields)
		data = {key: value for key, value in data.items() if value is not None}
		return self.http.post(f"{self.base}{path}", data=data, files=files or None, timeout=60)

	def track(self, code: str, **fields) -> requests.Response:
		files = fields.pop("files", None)
		data = {"kode": code, "lang": "id", **fields}
		return self.http.post(f"{self.base}/kasus", data=data, files=files or None, timeout=60)


def tracking_code(page: requests.Response) -> str:
	match = CODE.search(page.text)
	assert match, f"no tracking code in the page (status {page.status_code})"
	return match.group(1)


def page_text(page: requests.Response) -> str:
	return html.unescape(page.text)


def stored_report(**payload) -> dict:
	consent = consent_text()
	return {
		"workplace": "PT Sinar Garmen",
		"description": "Pekerja dipaksa lembur tanpa bayaran setiap Sabtu.",
		"anonymous": True,
		"name": None,
		"contact": None,
		"contact_kind": None,
		"consent_version": consent,
		"language": "id",
		**payload,
	}


def receive_report(key: str, union: str | None, code_hash: str | None = None, **payload) -> tuple[str, bool]:
	return inbox.receive(
		"Web",
		key,
		stored_report(**payload),
		union=union,
		summary="test report",
		tracking_code_hash=code_hash or frappe.generate_hash(length=64),
	)


def message_for(page_or_key) -> str:
	return frappe.db.get_value(inbox.INBOUND, {"dedup_key": f"web:{page_or_key}"})


def latest_inbound(kind: str = "New Report") -> frappe._dict:
	return frappe.get_last_doc(inbox.INBOUND, filters={"kind": kind})


def reset_limits():
	limits.reset()
