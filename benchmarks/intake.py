"""How many reports /lapor accepts per second, whether a burst loses any, and what its first view weighs
(see README.md).

Run through `benchmarks/run` (UNIONCASE_BENCHMARKS=intake), inside the small benchmark site, against
its gunicorn (the URL given). Each phase sends plain form posts as a phone's browser does (a form
token fetched with the page, bound to the browser's cookie):
- ping: the runtime's `/api/method/ping`, `--clients` concurrent clients, `--requests` each;
- submit: the same clients each posting `--requests` reports (tokens fetched beforehand, so only the
  submissions are timed); accepted per second against ping's requests per second (target >= 0.5);
- burst: 10x the measured rate for `--burst-seconds`, open loop (sent on schedule whatever the answers),
  then the inbox worker drained; every accepted submission must be one Inbound Message, processed
  into a Grievance (lost = 0);
- weight: the first view of /lapor and /kasus in bytes, with anything it loads (target < 15 KB).
The per-address report limit (Intake Settings, reports_per_hour) is raised for the run, as an admin
would for a test, and put back after; the app's limits are not changed.
"""

import argparse
import gzip
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import frappe
import requests

TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
CODE = re.compile(r'id="tracking-code">([0-9A-Z-]+)<')
SUBRESOURCE = re.compile(r'<(?:script|img|link|iframe)[^>]+(?:src|href)="([^"#]+)"', re.I)
TARGET_RATIO, TARGET_WEIGHT = 0.5, 15 * 1024


def parse_args(argv=None):
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--url", required=True)
	parser.add_argument("--clients", type=int, default=4)
	parser.add_argument("--requests", type=int, default=50, help="per client, per phase")
	parser.add_argument("--burst-factor", type=int, default=10)
	parser.add_argument("--burst-seconds", type=float, default=2.0)
	parser.add_argument("--drain-seconds", type=float, default=600)
	return parser.parse_known_args(argv)[0]  # the other benchmarks' options are shared by benchmarks/run


def wait_for(url: str, seconds: float = 120):
	deadline = time.monotonic() + seconds
	while True:
		try:
			if requests.get(f"{url}/api/method/ping", timeout=5).status_code == 200:
				return
		except requests.RequestException:
			pass
		if time.monotonic() > deadline:
			raise RuntimeError(f"{url} did not answer ping in {seconds} s")
		time.sleep(0.5)


class Phone:
	"""One worker's browser: its cookie, and form tokens fetched with the page."""

	def __init__(self, url: str, union: str):
		self.url, self.union = url, union
		self.http = requests.Session()

	def token(self) -> str:
		page = self.http.get(f"{self.url}/lapor", timeout=120)
		page.raise_for_status()
		return TOKEN.search(page.text).group(1)

	def submit(self, token: str, number: int) -> tuple[int, str | None]:
		answer = self.http.post(
			f"{self.url}/lapor",
			data={
				"workplace": "PT Sinar Garmen, Bogor",
				"description": f"Upah lembur bulan Oktober tidak dibayar untuk jalur jahit {number}.",
				"anonymity": "anonim",
				"consent": "1",
				"lang": "id",
				"union": self.union,
				"form_token": token,
			},
			timeout=300,
		)
		code = CODE.search(answer.text) if answer.status_code == 200 else None
		return answer.status_code, code.group(1) if code else None


def closed_loop(clients: int, per_client: int, work) -> float:
	"""Requests per second of `clients` threads each calling work(client, i) `per_client` times."""
	barrier = threading.Barrier(clients + 1)

	def run(client):
		barrier.wait()
		for i in range(per_client):
			work(client, i)

	threads = [threading.Thread(target=run, args=(c,)) for c in range(clients)]
	for thread in threads:
		thread.start()
	barrier.wait()
	started = time.perf_counter()
	for thread in threads:
		thread.join()
	return clients * per_client / (time.perf_counter() - started)


def measure_ping(args) -> float:
	sessions = [requests.Session() for _ in range(args.clients)]

	def ping(client, _i):
		sessions[client].get(f"{args.url}/api/method/ping", timeout=120).raise_for_status()

	closed_loop(args.clients, 10, ping)  # warm-up
	return closed_loop(args.clients, args.requests, ping)


def measure_submit(args, union: str) -> tuple[float, list]:
	phones = [Phone(args.url, union) for _ in range(args.clients)]
	tokens = [[phone.token() for _ in range(args.requests)] for phone in phones]
	results = []

	def submit(client, i):
		results.append(phones[client].submit(tokens[client][i], client * 100_000 + i))

	rate = closed_loop(args.clients, args.requests, submit)
	return rate, results


def burst(args, union: str, rate: float) -> tuple[float, list]:
	"""Open loop: submissions sent at `rate` per second, each on its own connection."""
	total = max(1, int(rate * args.burst_seconds))
	phones = [Phone(args.url, union) for _ in range(16)]
	tokens = [(phones[i % 16], phones[i % 16].token()) for i in range(total)]
	results = []

	def send(i):
		phone, token = tokens[i]
		time.sleep(max(0.0, started + i / rate - time.perf_counter()))
		try:
			results.append(phone.submit(token, 900_000 + i))
		except requests.RequestException as error:
			results.append((f"error: {type(error).__name__}", None))

	started = time.perf_counter()
	with ThreadPoolExecutor(max_workers=min(total, 256)) as pool:
		list(pool.map(send, range(total)))
	return time.perf_counter() - started, results


def persisted(codes: list[str]) -> tuple[int, int]:
	"""(Inbound Messages, Grievances) stored for these tracking codes."""
	from unioncase.intake import inbox, tracking

	frappe.db.rollback()
	hashes = [tracking.code_hash(tracking.normalise(code)) for code in codes]
	messages = frappe.get_all(
		inbox.INBOUND, filters={"tracking_code_hash": ["in", hashes]}, fields=["name", "grievance"], limit=0
	)
	cases = {m.grievance for m in messages if m.grievance}
	existing = (
		frappe.get_all("Grievance", filters={"name": ["in", list(cases)]}, pluck="name") if cases else []
	)
	return len(messages), len(existing)


def drain(seconds: float) -> tuple[float, int]:
	"""Work the inbox as its worker and its retry job would, until no web report waits; (seconds, retries).

	The queue's jobs for these messages are the work done here, so they are dropped first: left queued
	with no worker, they would make Frappe refuse the jobs processing enqueues (QueueOverloaded), which
	the inbox records as a failure to retry."""
	from frappe.utils.background_jobs import get_queue

	from unioncase.intake import inbox

	started, retries = time.perf_counter(), 0
	while time.perf_counter() - started < seconds:
		frappe.db.rollback()
		pending = frappe.get_all(
			inbox.INBOUND,
			filters={"channel": "Web", "state": ["in", ["Received", "Failed"]]},
			fields=["name", "state"],
			limit=200,
		)
		if not pending:
			break
		for queue in ("short", "default", "long"):
			get_queue(queue).empty()
		for message in pending:
			retries += message.state == "Failed"
			inbox.process_message(message.name)
			frappe.db.commit()
	return time.perf_counter() - started, retries


def weight(url: str, path: str) -> tuple[int, int, list[str]]:
	"""(bytes of the first view with what it loads, gzipped, the subresources)."""
	page = requests.get(f"{url}{path}", timeout=60)
	page.raise_for_status()
	loaded = [src for src in SUBRESOURCE.findall(page.text) if not src.startswith(("?", "data:"))]
	body = page.content
	for src in loaded:
		body += requests.get(src if src.startswith("http") else f"{url}{src}", timeout=60).content
	return len(body), len(gzip.compress(body)), loaded


def main(argv=None):
	args = parse_args(argv)
	frappe.init()
	frappe.connect()
	frappe.set_user("Administrator")
	from unioncase.intake import limits

	union = (frappe.get_all("Union", filters={"level": "Workplace Union"}, pluck="name", limit=1) or [None])[
		0
	]
	before = frappe.db.get_single_value("Intake Settings", "reports_per_hour")
	frappe.db.set_single_value("Intake Settings", "reports_per_hour", 1_000_000)
	frappe.db.commit()
	limits.reset()
	wait_for(args.url)
	try:
		ping = measure_ping(args)
		print(f"ping {ping:.1f}/s", file=sys.stderr, flush=True)
		rate, results = measure_submit(args, union)
		print(f"submit {rate:.1f}/s", file=sys.stderr, flush=True)
		accepted = [code for status, code in results if status == 200 and code]
		burst_rate = rate * args.burst_factor
		took, burst_results = burst(args, union, burst_rate)
		burst_accepted = [code for status, code in burst_results if status == 200 and code]
		statuses = {}
		for status, _code in burst_results:
			statuses[status] = statuses.get(status, 0) + 1
		drained, retries = drain(args.drain_seconds)
		messages, cases = persisted(burst_accepted)
		all_messages, all_cases = persisted(accepted + burst_accepted)
		weights = {path: weight(args.url, path) for path in ("/lapor", "/kasus")}
	finally:
		frappe.db.set_single_value("Intake Settings", "reports_per_hour", before or 0)
		frappe.db.commit()
		limits.reset()

	print()
	print(f"Intake (/lapor) over HTTP through gunicorn, {args.clients} clients x {args.requests} requests:")
	print(f"  ping: {ping:.1f} requests/s")
	ratio = rate / ping
	print(
		f"  submit: {rate:.1f} reports/s accepted ({len(accepted)}/{len(results)} answered 200 with a code);"
		f" submit/ping {ratio:.2f} (target >= {TARGET_RATIO}) {'ok' if ratio >= TARGET_RATIO else 'BELOW'}"
	)
	lost = len(burst_accepted) - min(messages, cases)
	print(
		f"  burst: {len(burst_results)} sent at {burst_rate:.0f}/s ({args.burst_factor}x) over {args.burst_seconds:.1f} s,"
		f" answered in {took:.1f} s: {statuses}; accepted {len(burst_accepted)},"
		f" Inbound Messages {messages}, Grievances {cases}; lost {lost} {'ok' if lost == 0 else 'LOST'}"
	)
	print(
		f"  drained the inbox in {drained:.1f} s ({retries} retried after a failure); all phases: {len(accepted) + len(burst_accepted)} accepted,"
		f" {all_messages} messages, {all_cases} cases"
	)
	heavy = False
	for path, (size, zipped, loaded) in weights.items():
		heavy |= size >= TARGET_WEIGHT
		print(
			f"  first view {path}: {size:,} bytes ({zipped:,} gzipped), loads {loaded or 'nothing else'}"
			f" (target < {TARGET_WEIGHT:,}) {'ok' if size < TARGET_WEIGHT else 'HEAVY'}"
		)
	frappe.destroy()
	return 1 if lost or all_messages != len(accepted) + len(burst_accepted) else 0


if __name__ == "__main__":
	sys.exit(main())
