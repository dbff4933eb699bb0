"""Signed WhatsApp webhook POSTs accepted per second, against the runtime's no-op `ping`, over HTTP.

Usage: python benchmarks/whatsapp_webhook.py --url http://127.0.0.1:8034 --app-secret SECRET
(the App Secret set in the site's WhatsApp Settings). Sends --requests POSTs from --threads threads,
each a signed text message with its own wamid (run id in the wamid: count what was stored with
`select count(*) from `tabInbound Message` where dedup_key like 'whatsapp:wamid.BENCH<run>%'`), then
as many `ping` calls the same way, and prints both rates and their ratio (target: at least 0.5).
"""

import argparse
import hashlib
import hmac
import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import requests

PATH = "/api/method/unioncase.intake.whatsapp.webhook"


def body(run: str, position: int) -> bytes:
	message = {
		"from": f"6281234{position % 10000:04d}",
		"id": f"wamid.BENCH{run}.{position}",
		"timestamp": str(int(time.time())),
		"type": "text",
		"text": {"body": "Upah lembur belum dibayar (uji beban)."},
	}
	value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "bench"}, "messages": [message]}
	return json.dumps(
		{
			"object": "whatsapp_business_account",
			"entry": [{"id": "bench", "changes": [{"field": "messages", "value": value}]}],
		}
	).encode()


def rate(send, count: int, threads: int) -> tuple[float, dict]:
	statuses = {}
	started = time.perf_counter()
	with ThreadPoolExecutor(threads) as pool:
		for status in pool.map(send, range(count)):
			statuses[status] = statuses.get(status, 0) + 1
	return count / (time.perf_counter() - started), statuses


def main():
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--url", required=True)
	parser.add_argument("--app-secret", required=True)
	parser.add_argument("--requests", type=int, default=300)
	parser.add_argument("--threads", type=int, default=4)
	args = parser.parse_args()
	run = secrets.token_hex(3)
	sessions = {}

	def session():
		import threading

		return sessions.setdefault(threading.get_ident(), requests.Session())

	def webhook(position: int) -> int:
		data = body(run, position)
		signature = "sha256=" + hmac.new(args.app_secret.encode(), data, hashlib.sha256).hexdigest()
		headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
		return session().post(f"{args.url}{PATH}", data=data, headers=headers, timeout=60).status_code

	def ping(_position: int) -> int:
		return session().get(f"{args.url}/api/method/ping", timeout=60).status_code

	rate(ping, 20, args.threads)  # warm up
	ping_rate, ping_statuses = rate(ping, args.requests, args.threads)
	webhook_rate, webhook_statuses = rate(webhook, args.requests, args.threads)
	print(
		f"run {run}: ping {ping_rate:.1f}/s {ping_statuses}; signed webhook {webhook_rate:.1f}/s {webhook_statuses}"
	)
	print(f"webhook/ping = {webhook_rate / ping_rate:.2f} (target >= 0.5)")


if __name__ == "__main__":
	main()
