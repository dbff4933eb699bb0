"""How many reports /lapor and signed WhatsApp webhook bodies the site accepts per second, whether a
burst loses or duplicates any, how long a message waits for its case, and what the pages' first view
weighs (see README.md).

Run through `benchmarks/run` (UNIONCASE_BENCHMARKS=intake), inside the small benchmark site, against
its gunicorn (the URL given). /lapor's phases send plain form posts as a phone's browser does (a form
token fetched with the page, bound to the browser's cookie); the webhook's are in whatsapp_webhook.py.
- ping: the runtime's `/api/method/ping`, `--clients` concurrent clients, `--requests` each;
- submit: the same clients each posting `--requests` reports (tokens fetched beforehand, so only the
  submissions are timed); accepted per second against ping's requests per second (target >= 0.5);
- webhook: the same for signed WhatsApp bodies (target >= 0.5);
  these three run back to back in `--rounds` rounds (5), each ratio taken within its round (the same
  load on a shared machine) and the median printed with its range;
  ping and submit also print their machine CPU per request by process (`/proc`: the web tier's gunicorn,
  MariaDB, Redis and this load generator) and its ratio, which shows what a change saved where the rates
  swing with a shared machine's speed; the three phases run with no worker (the web tier alone, as
  ping); their messages are stored and counted, then set aside (jobs dropped, marked
  Ignored) so the bursts start on an empty queue;
- then the inbox's worker (`monoframe worker`) is started, and each burst sent at 10x its measured rate
  for `--burst-seconds`, open loop (sent on schedule whatever the answers): every accepted report must
  be one Inbound Message processed into a Grievance (lost = 0), every accepted wamid one message with
  one conversation entry (lost = 0, duplicated = 0, a tenth delivered twice), once the queue drained
  (a message still waiting after `--drain-seconds` is "not drained", and fails the run as a loss would);
  the wait from a message stored to its case existing (processed), p50 and p95;
- weight: the first view of /lapor and /kasus in bytes, with anything it loads (target < 15 KB).
The per-address report limit (Intake Settings, reports_per_hour) is raised for the run, as an admin
would for a test, and put back after; WhatsApp Settings get the run's App Secret and a stand-in Cloud
API on loopback for the acknowledgements, and their other values back after.
"""

import argparse
import gzip
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import frappe
import requests
import whatsapp_webhook

TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
CODE = re.compile(r'id="tracking-code">([0-9A-Z-]+)<')
SUBRESOURCE = re.compile(r'<(?:script|img|link|iframe)[^>]+(?:src|href)="([^"#]+)"', re.I)
TARGET_RATIO, TARGET_WEIGHT = 0.5, 15 * 1024


def parse_args(argv=None):
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--url", required=True)
	parser.add_argument(
		"--clients", type=int, default=8, help="more than the web tier's 5 workers: throughput, not latency"
	)
	parser.add_argument("--requests", type=int, default=30, help="per client, per phase")
	parser.add_argument("--rounds", type=int, default=5, help="throughput rounds (ping, submit, webhook)")
	parser.add_argument("--burst-factor", type=int, default=10)
	parser.add_argument("--burst-seconds", type=float, default=1.0)
	parser.add_argument("--drain-seconds", type=float, default=1800)
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


class CpuMeter:
	"""Machine CPU per request of a phase, from /proc: the web tier's gunicorn processes, MariaDB, Redis
	and this load generator. A phase's cost per request does not swing with the machine's speed as its
	rate does (a shared or throttled machine), so it shows what a change saved where the rates cannot."""

	TICK = os.sysconf("SC_CLK_TCK")

	def __init__(self, url: str):
		self.port = urlparse(url).port
		self.spent: dict[tuple[str, str], float] = {}
		self.requests: dict[str, int] = {}

	def processes(self) -> dict[str, list[int]]:
		def pids(*pattern):
			found = subprocess.run(["pgrep", *pattern], capture_output=True, text=True).stdout
			return [int(pid) for pid in found.split()]

		return {
			"gunicorn": pids("-f", f"gunicorn --bind 127.0.0.1:{self.port} "),
			"MariaDB": pids("-x", "mariadbd"),
			"Redis": pids("-x", "redis-server"),
		}

	def seconds(self) -> dict[str, float]:
		spent = {"client": sum(os.times()[:2])}
		for name, pids in self.processes().items():
			spent[name] = 0.0
			for pid in pids:
				try:
					with open(f"/proc/{pid}/stat") as stat:
						fields = stat.read().rsplit(")", 1)[1].split()
				except OSError:
					continue  # a worker gunicorn recycled meanwhile
				spent[name] += (int(fields[11]) + int(fields[12])) / self.TICK
		return spent

	def measure(self, phase: str, requests: int, run):
		before = self.seconds()
		result = run()
		for name, seconds in self.seconds().items():
			self.spent[phase, name] = self.spent.get((phase, name), 0.0) + seconds - before.get(name, 0.0)
		self.requests[phase] = self.requests.get(phase, 0) + requests
		return result

	def per_request(self, phase: str) -> dict[str, float]:
		"""Milliseconds of CPU per request of the phase, by process, and their total."""
		parts = {
			name: self.spent.get((phase, name), 0.0) / self.requests[phase] * 1000
			for name in ("gunicorn", "MariaDB", "Redis", "client")
		}
		return {**parts, "total": sum(parts.values())}


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


def measure_ping(args, meter: CpuMeter) -> float:
	sessions = [requests.Session() for _ in range(args.clients)]

	def ping(client, _i):
		sessions[client].get(f"{args.url}/api/method/ping", timeout=120).raise_for_status()

	closed_loop(args.clients, 10, ping)  # warm-up
	return meter.measure(
		"ping", args.clients * args.requests, lambda: closed_loop(args.clients, args.requests, ping)
	)


def measure_submit(args, union: str, meter: CpuMeter) -> tuple[float, list]:
	phones = [Phone(args.url, union) for _ in range(args.clients)]
	tokens = [[phone.token() for _ in range(args.requests)] for phone in phones]
	results = []

	def submit(client, i):
		results.append(phones[client].submit(tokens[client][i], client * 100_000 + i))

	rate = meter.measure(
		"report", args.clients * args.requests, lambda: closed_loop(args.clients, args.requests, submit)
	)
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


def web_outcome(codes: list[str]) -> dict:
	"""What the inbox made of these accepted reports: stored, processed into a case, and the waits."""
	from unioncase.intake import inbox, tracking

	frappe.db.rollback()
	hashes = [tracking.code_hash(tracking.normalise(code)) for code in codes]
	rows = []
	for start in range(0, len(hashes), 500):
		rows += frappe.get_all(
			inbox.INBOUND,
			filters={"tracking_code_hash": ["in", hashes[start : start + 500]]},
			fields=["name", "state", "grievance", "received_on", "processed_on"],
			limit=0,
		)
	cases = {row.grievance for row in rows if row.grievance}
	existing = set()
	for chunk in [list(cases)[i : i + 500] for i in range(0, len(cases), 500)]:
		existing |= set(frappe.get_all("Grievance", filters={"name": ["in", chunk]}, pluck="name"))
	return {
		"stored": len(rows),
		"cases": len(existing),
		"pending": sum(row.state in ("Received", "Failed") for row in rows),
		"waits": sorted(
			(row.processed_on - row.received_on).total_seconds()
			for row in rows
			if row.grievance and row.processed_on
		),
	}


def set_aside_throughput_messages():
	"""The throughput phases' messages (stored and counted) are not processed: their jobs are dropped and
	they are marked Ignored, so the bursts start on an empty queue and the backlog job never takes them."""
	from frappe.utils.background_jobs import get_queue

	from unioncase.intake import inbox

	for queue in ("short", "default", "long"):
		get_queue(queue).empty()
	inbox.backlog_looks()  # its backlog job was dropped with the queue
	frappe.db.sql(
		"update `tabInbound Message` set state = 'Ignored', state_reason = %s where state = 'Received'",
		"benchmarks/intake.py: a throughput phase's message, stored and counted, not processed",
	)
	frappe.db.commit()


def start_worker() -> subprocess.Popen:
	"""The inbox's worker as setup.sh starts it (`monoframe worker`, in the site folder), in a session."""
	os.makedirs("../logs", exist_ok=True)
	return subprocess.Popen(
		[os.path.join(os.path.dirname(sys.executable), "monoframe"), "worker"],
		stdout=open("../logs/bench-intake-worker.log", "w"),
		stderr=subprocess.STDOUT,
		start_new_session=True,
	)


def stop_worker(worker: subprocess.Popen):
	try:
		os.killpg(worker.pid, signal.SIGTERM)
		worker.wait(timeout=60)
	except (ProcessLookupError, subprocess.TimeoutExpired):
		os.killpg(worker.pid, signal.SIGKILL)


def wait_drained(pending, seconds: float) -> float:
	"""Seconds until `pending()` (messages not yet processed) is 0, or `seconds` passed."""
	started = time.perf_counter()
	while time.perf_counter() - started < seconds:
		frappe.db.rollback()
		if not pending():
			break
		time.sleep(1)
	return time.perf_counter() - started


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
	provider = whatsapp_webhook.StandInProvider()
	whatsapp_before = whatsapp_webhook.configure(frappe, union, provider.url)
	run = secrets.token_hex(3)
	wait_for(args.url)
	worker = None
	try:
		# rounds of ping, submit and webhook back to back: each ratio compares phases run under the same load
		pings, rates, hook_rates, results, hook_accepted = [], [], [], [], []
		meter = CpuMeter(args.url)
		for round_number in range(args.rounds):
			pings.append(measure_ping(args, meter))
			rate, round_results = measure_submit(args, union, meter)
			rates.append(rate)
			results += round_results
			hook_rate, round_accepted = whatsapp_webhook.measure_rate(
				args.url, args.clients, args.requests, f"{run}{round_number}", closed_loop
			)
			hook_rates.append(hook_rate)
			hook_accepted += round_accepted
			print(
				f"round {round_number + 1}: ping {pings[-1]:.1f}/s, submit {rate:.1f}/s, webhook {hook_rate:.1f}/s",
				file=sys.stderr,
				flush=True,
			)
		ping, rate, hook_rate = (statistics.median(values) for values in (pings, rates, hook_rates))
		ratios = sorted(submit / each for submit, each in zip(rates, pings, strict=True))
		hook_ratios = sorted(hook / each for hook, each in zip(hook_rates, pings, strict=True))
		accepted = [code for status, code in results if status == 200 and code]
		rate_stored = web_outcome(accepted)["stored"]
		hook_stored = whatsapp_webhook.outcome(frappe, hook_accepted)["stored"]
		set_aside_throughput_messages()

		worker = start_worker()
		burst_rate = rate * args.burst_factor
		took, burst_results = burst(args, union, burst_rate)
		burst_accepted = [code for status, code in burst_results if status == 200 and code]
		statuses = {}
		for status, _code in burst_results:
			statuses[status] = statuses.get(status, 0) + 1
		web_drained = wait_drained(lambda: web_outcome(burst_accepted)["pending"], args.drain_seconds)
		web = web_outcome(burst_accepted)
		print(f"web burst drained in {web_drained:.0f} s", file=sys.stderr, flush=True)

		hook_burst_rate = hook_rate * args.burst_factor
		hook_took, hook_statuses, hook_burst_accepted, repeats = whatsapp_webhook.burst(
			args.url, hook_burst_rate, args.burst_seconds, run
		)

		def hook_pending():
			found = whatsapp_webhook.outcome(frappe, hook_burst_accepted)
			return found["pending"] + (len(hook_burst_accepted) - found["stored"])

		hook_drained = wait_drained(hook_pending, args.drain_seconds)
		hook = whatsapp_webhook.outcome(frappe, hook_burst_accepted)
		weights = {path: weight(args.url, path) for path in ("/lapor", "/kasus")}
	finally:
		if worker:
			stop_worker(worker)
		provider.stop()
		frappe.db.rollback()
		whatsapp_webhook.restore(frappe, whatsapp_before)
		frappe.db.set_single_value("Intake Settings", "reports_per_hour", before or 0)
		frappe.db.commit()
		limits.reset()

	pct = whatsapp_webhook.percentile
	print()
	print(
		f"Intake over HTTP through gunicorn, {args.clients} clients x {args.requests} requests a phase,"
		f" {args.rounds} rounds of ping, submit and webhook (medians; ratios per round, min-max):"
	)
	print(f"  ping: {ping:.1f} requests/s")
	ratio = statistics.median(ratios)
	print(
		f"  /lapor submit: {rate:.1f} reports/s accepted ({len(accepted)}/{len(results)} answered 200 with a code,"
		f" {rate_stored} stored); submit/ping {ratio:.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})"
		f" (target >= {TARGET_RATIO}) {'ok' if ratio >= TARGET_RATIO else 'BELOW'}"
	)
	cpu = {phase: meter.per_request(phase) for phase in ("ping", "report")}
	print(
		"  machine CPU per request (gunicorn + MariaDB + Redis + this load generator; MariaDB and Redis as"
		" shared with anything else running): "
		+ "; ".join(
			f"{phase} {spent['total']:.2f} ms ("
			+ ", ".join(f"{name} {spent[name]:.2f}" for name in ("gunicorn", "MariaDB", "Redis", "client"))
			+ ")"
			for phase, spent in cpu.items()
		)
		+ f"; ping/report {cpu['ping']['total'] / cpu['report']['total']:.2f}"
	)
	hook_ratio = statistics.median(hook_ratios)
	print(
		f"  WhatsApp webhook: {hook_rate:.1f} signed bodies/s accepted ({len(hook_accepted)}/"
		f"{args.rounds * args.clients * args.requests} answered 200, {hook_stored} stored); webhook/ping"
		f" {hook_ratio:.2f} ({hook_ratios[0]:.2f}-{hook_ratios[-1]:.2f}) (target >= {TARGET_RATIO})"
		f" {'ok' if hook_ratio >= TARGET_RATIO else 'BELOW'}"
	)
	web_lost = len(burst_accepted) - web["stored"]
	web_pending = web["stored"] - web["cases"]
	print(
		f"  /lapor burst (worker running): {len(burst_results)} sent at {burst_rate:.0f}/s ({args.burst_factor}x) over"
		f" {args.burst_seconds:.1f} s, answered in {took:.1f} s: {statuses}; accepted {len(burst_accepted)},"
		f" Inbound Messages {web['stored']}, Grievances {web['cases']} after {web_drained:.0f} s;"
		f" lost {web_lost} {'ok' if web_lost == 0 else 'LOST'}, not drained {web_pending}"
		f" {'ok' if web_pending == 0 else 'PENDING'}; stored to case p50 {pct(web['waits'], 0.5):.1f} s,"
		f" p95 {pct(web['waits'], 0.95):.1f} s"
	)
	hook_bad = hook["lost"] + hook["duplicated"] + hook["unrecorded"]
	print(
		f"  WhatsApp burst (worker running): {sum(hook_statuses.values())} sent at {hook_burst_rate:.0f}/s"
		f" ({args.burst_factor}x) over {args.burst_seconds:.1f} s ({repeats} delivered twice), answered in"
		f" {hook_took:.1f} s: {hook_statuses}; accepted {len(hook_burst_accepted)} wamids, Inbound Messages"
		f" {hook['stored']}, processed {hook['processed']}, with a case {hook['with_case']} ({hook['cases']} cases)"
		f" after {hook_drained:.0f} s; lost {hook['lost']}, duplicated {hook['duplicated']},"
		f" without a conversation entry {hook['unrecorded']} {'ok' if hook_bad == 0 else 'LOST'}, not drained"
		f" {hook['pending']} {'ok' if hook['pending'] == 0 else 'PENDING'};"
		f" stored to case p50 {pct(hook['waits'], 0.5):.1f} s, p95 {pct(hook['waits'], 0.95):.1f} s"
	)
	heavy = False
	for path, (size, zipped, loaded) in weights.items():
		heavy |= size >= TARGET_WEIGHT
		print(
			f"  first view {path}: {size:,} bytes ({zipped:,} gzipped), loads {loaded or 'nothing else'}"
			f" (target < {TARGET_WEIGHT:,}) {'ok' if size < TARGET_WEIGHT else 'HEAVY'}"
		)
	frappe.destroy()
	lost = web_lost or hook_bad or rate_stored != len(accepted) or hook_stored != len(hook_accepted)
	lost = lost or web_pending or hook["pending"]  # a claim of nothing lost needs the queue drained
	return 1 if lost else 0


if __name__ == "__main__":
	sys.exit(main())
