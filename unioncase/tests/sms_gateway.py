"""An SMS gateway on loopback for the tests: a real HTTP server that records every request it is sent
(method, path, headers, query, form or JSON body) and answers as a gateway does (200 with a message id,
or the statuses a test scripts: 429, 500, 400), and the site's SMS settings pointing at it."""

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import frappe

SHARED_SECRET = "t-sms-shared-secret-" + "y" * 16
GATEWAY_KEY = "t-sms-gateway-key-ZX81"
SENDER_NAME = "SERIKAT"


class SmsGateway:
	"""POST /send (form or JSON) or GET /send?...: records the request, answers {"message_id": ...}."""

	def __init__(self):
		self.requests, self.answers = [], []
		gateway = self

		class Handler(BaseHTTPRequestHandler):
			def log_message(self, *args):
				pass

			def reply(self, status: int, body):
				data = json.dumps(body).encode()
				self.send_response(status)
				self.send_header("Content-Type", "application/json")
				self.send_header("Content-Length", str(len(data)))
				self.end_headers()
				self.wfile.write(data)

			def record(self, body: bytes):
				url = urlsplit(self.path)
				params = dict(parse_qsl(url.query))
				content_type = self.headers.get("Content-Type") or ""
				if "json" in content_type:
					params.update(json.loads(body or b"{}"))
				elif body:
					params.update(dict(parse_qsl(body.decode())))
				gateway.requests.append(
					{
						"method": self.command,
						"path": url.path,
						"headers": dict(self.headers),
						"content_type": content_type,
						"params": params,
					}
				)
				if gateway.answers:
					return self.reply(*gateway.answers.pop(0))
				self.reply(200, {"status": "0", "message_id": "SMSOUT" + secrets.token_hex(8)})

			def do_POST(self):
				self.record(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

			def do_GET(self):
				self.record(b"")

		self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # a free port: helpers run side by side
		self.port = self.server.server_address[1]
		self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
		self.thread.start()
		self.url = f"http://127.0.0.1:{self.port}/send"

	def stop(self):
		self.server.shutdown()
		self.server.server_close()


def configure(gateway: SmsGateway, union: str, **values):
	"""Frappe's SMS Settings for the gateway (JSON POST, a static sender, no secret in it) and SMS Intake
	Settings (shared secret, credential, the receiving union)."""
	sms_settings = frappe.get_single("SMS Settings")
	sms_settings.update(
		{
			"sms_gateway_url": gateway.url,
			"message_parameter": "text",
			"receiver_parameter": "to",
			"use_post": 1,
		}
	)
	sms_settings.set(
		"parameters",
		[
			{"parameter": "from", "value": SENDER_NAME, "header": 0},
			{"parameter": "Content-Type", "value": "application/json", "header": 1},
		],
	)
	sms_settings.save(ignore_permissions=True)
	settings = frappe.get_single("SMS Intake Settings")
	settings.update(
		{
			"enabled": 1,
			"default_union": union,
			"auth_mode": "HMAC Signature",
			"auth_header": "X-Signature",
			"inbound_secret": SHARED_SECRET,
			"auth_type": "Header",
			"auth_name": "X-Api-Key",
			"auth_secret": GATEWAY_KEY,
			"number_format": "E.164 (+62812...)",
			"split_mode": "Gateway joins the parts",
			"max_parts": 6,
			"message_id_path": "message_id",
			**values,
		}
	)
	settings.save(ignore_permissions=True)
	frappe.db.commit()
