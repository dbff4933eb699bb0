"""Signed WhatsApp webhook POSTs: the bodies, the stand-in Cloud API, and the phases `intake.py` runs.

Run through `benchmarks/run` (UNIONCASE_BENCHMARKS=intake runs /lapor's phases and these in one run,
see README.md). Every body is one text message, signed with the App Secret the run sets in WhatsApp
Settings, from a number of its own (each opens a case), with a wamid carrying the run's id:
- rate: `--clients` clients each posting `--requests` bodies, accepted (200) per second, against
  ping's requests per second measured in the same run (target >= 0.5);
- burst: 10x that rate for `--burst-seconds`, open loop, every tenth body delivered twice (as the
  provider retries), with the inbox's worker running; after the queue drains, every accepted wamid must
  be one Inbound Message, processed, with one entry in its case's conversation (lost = 0, duplicated =
  0), and the time from acceptance (the message stored) to its case existing (processed) is given as
  p50 and p95.
The acknowledgements the cases send go to a stand-in Cloud API on loopback (answers 200 with an id).
"""

import hashlib
import hmac
import json
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

PATH = "/api/method/unioncase.intake.whatsapp.webhook"
SETTINGS = "WhatsApp Settings"
APP_SECRET = "bench-app-secret-" + "b" * 24


def body(run: str, position: int) -> bytes:
	message = {
		"from": f"62877{run_digits(run)}{position:05d}",
		"id": f"wamid.BENCH{run}.{position}",
		"timestamp": str(int(time.time())),
		"type": "text",
		"text": {"body": "Upah lembur belum dibayar (uji beban)."},
	}
	value = {
		"messaging_product": "whatsapp",
		"metadata": {"phone_number_id": "bench"},
		"contacts": [{"profile": {"name": "Pekerja"}, "wa_id": message["from"]}],
		"messages": [message],
	}
	return json.dumps(
		{
			"object": "whatsapp_business_account",
			"entry": [{"id": "bench", "changes": [{"field": "messages", "value": value}]}],
		}
	).encode()


def run_digits(run: str) -> str:
	return str(int(run, 16) % 1000).zfill(3)


def signed_headers(data: bytes, secret: str = APP_SECRET) -> dict:
	signature = "sha256=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
	return {"Content-Type": "application/json", "X-Hub-Signature-256": signature}


class StandInProvider:
	"""The Cloud API's messages endpoint on loopback: every send answered 200 with a new wamid."""

	def __init__(self):
		class Handler(BaseHTTPRequestHandler):
			def log_message(self, *args):
				pass

			def do_POST(self):
				self.rfile.read(int(self.headers.get("Content-Length") or 0))
				data = json.dumps({"messages": [{"id": "wamid.OUT" + secrets.token_hex(8)}]}).encode()
				self.send_response(200)
				self.send_header("Content-Type", "application/json")
				self.send_header("Content-Length", str(len(data)))
				self.end_headers()
				self.wfile.write(data)

		self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
		threading.Thread(target=self.server.serve_forever, daemon=True).start()
		self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v20.0"

	def stop(self):
		self.server.shutdown()
		self.server.server_close()


def configure(frappe, union: str, graph_url: str) -> dict:
	"""Enable the channel for the run (the site's values come back with `restore`); the guided first
	contact is off, so each message opens its case and the wait to a case measures the inbox alone."""
	doc = frappe.get_single(SETTINGS)
	fields = ("enabled", "phone_number_id", "graph_url", "default_union", "guided_intake")
	before = {field: doc.get(field) for field in fields}
	doc.update(
		{
			"enabled": 1,
			"guided_intake": 0,
			"phone_number_id": "bench",
			"graph_url": graph_url,
			"default_union": union,
			"app_secret": APP_SECRET,
			"access_token": "bench-token",
		}
	)
	doc.save(ignore_permissions=True)
	frappe.db.commit()
	return before


def restore(frappe, before: dict):
	doc = frappe.get_single(SETTINGS)
	doc.update(before)
	doc.save(ignore_permissions=True)
	frappe.db.commit()


class Sender:
	def __init__(self, url: str):
		self.url, self.sessions = url, {}

	def post(self, data: bytes) -> int:
		http = self.sessions.setdefault(threading.get_ident(), requests.Session())
		return http.post(
			f"{self.url}{PATH}", data=data, headers=signed_headers(data), timeout=300
		).status_code


def measure_rate(url: str, clients: int, per_client: int, run: str, closed_loop) -> tuple[float, list]:
	sender, accepted = Sender(url), []

	def work(client, i):
		position = client * 10_000 + i
		if sender.post(body(run, position)) == 200:
			accepted.append(f"wamid.BENCH{run}.{position}")

	return closed_loop(clients, per_client, work), accepted


def burst(url: str, rate: float, seconds: float, run: str) -> tuple[float, dict, list, int]:
	"""Open loop at `rate` per second; every tenth body sent twice. (seconds, statuses, accepted, repeats)."""
	total = max(1, int(rate * seconds))
	sender, statuses, accepted, lock = Sender(url), {}, [], threading.Lock()
	plan = [900_000 + i for i in range(total)]
	plan += [plan[i] for i in range(0, total, 10)]  # the provider delivers these again, later in the burst
	interval = seconds / len(plan)

	def send(slot):
		position = plan[slot]
		time.sleep(max(0.0, started + slot * interval - time.perf_counter()))
		try:
			status = sender.post(body(run, position))
		except requests.RequestException as error:
			status = f"error: {type(error).__name__}"
		with lock:
			statuses[status] = statuses.get(status, 0) + 1
			if status == 200:
				accepted.append(f"wamid.BENCH{run}.{position}")

	started = time.perf_counter()
	with ThreadPoolExecutor(max_workers=min(len(plan), 256)) as pool:
		list(pool.map(send, range(len(plan))))
	return time.perf_counter() - started, statuses, sorted(set(accepted)), len(plan) - total


def outcome(frappe, wamids: list[str]) -> dict:
	"""What the inbox made of these accepted wamids, once drained."""
	frappe.db.rollback()
	keys = [f"whatsapp:{wamid}" for wamid in wamids]
	rows = []
	for start in range(0, len(keys), 500):
		rows += frappe.get_all(
			"Inbound Message",
			filters={"dedup_key": ["in", keys[start : start + 500]]},
			fields=["name", "dedup_key", "state", "grievance", "received_on", "processed_on"],
			limit=0,
		)
	names = [row.name for row in rows]
	entries = {}
	for start in range(0, len(names), 500):
		for entry in frappe.get_all(
			"Case Message",
			filters={"inbound_message": ["in", names[start : start + 500]], "direction": "From Worker"},
			pluck="inbound_message",
			limit=0,
		):
			entries[entry] = entries.get(entry, 0) + 1
	waits = sorted(
		(row.processed_on - row.received_on).total_seconds()
		for row in rows
		if row.state == "Processed" and row.grievance and row.processed_on
	)
	stored = {row.dedup_key for row in rows}
	return {
		"stored": len(rows),
		"processed": sum(row.state == "Processed" for row in rows),
		"with_case": sum(bool(row.grievance) for row in rows),
		"cases": len({row.grievance for row in rows if row.grievance}),
		"lost": sum(
			key not in stored for key in keys
		),  # never stored; one stored but not processed is pending
		"duplicated": len(rows) - len(stored) + sum(count - 1 for count in entries.values() if count > 1),
		"unrecorded": sum(1 for row in rows if row.state == "Processed" and not entries.get(row.name)),
		"waits": waits,
		"pending": sum(row.state in ("Received", "Failed") for row in rows),
	}


def percentile(values: list[float], share: float) -> float:
	if not values:
		return float("nan")
	return values[min(len(values) - 1, round(share * (len(values) - 1)))]
