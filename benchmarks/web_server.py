"""Throughput of the running web server on the Desk's list call, alone and with concurrent clients.

Logs in as a demo branch official and calls `frappe.desk.reportview.get` for Grievance as the Desk's
list view asks for it (first page of 20, newest first), over loopback HTTP against the server that
`scripts/setup.sh` started. Each phase runs for a fixed time; it prints requests/s, p50 and p95.

	.venv/bin/python benchmarks/web_server.py --url http://127.0.0.1:8000 [--seconds 20] [--clients 16]
"""

import argparse
import json
import statistics
import threading
import time

import requests

DEMO_OFFICIAL = "branch.bogor@demo.unioncase.org"
DEMO_PASSWORD = "demo-password-2026"
LIST_FIELDS = ["name", "subject", "status", "workflow_state", "severity", "owning_union", "modified"]
LIST_CALL = {
	"doctype": "Grievance",
	"fields": json.dumps([f"`tabGrievance`.`{field}`" for field in LIST_FIELDS]),
	"filters": "[]",
	"order_by": "`tabGrievance`.`modified` desc",
	"start": "0",
	"page_length": "20",
	"view": "List",
	"with_comment_count": "1",
}


def login(base: str, user: str, password: str) -> requests.Session:
	session = requests.Session()
	session.post(
		f"{base}/api/method/login", json={"usr": user, "pwd": password}, timeout=30
	).raise_for_status()
	return session


def run_phase(base: str, clients: int, seconds: float, user: str, password: str) -> dict:
	sessions = [login(base, user, password) for _ in range(clients)]
	latencies: list[float] = []
	failures = []
	lock = threading.Lock()
	deadline = time.perf_counter() + seconds

	def client(session: requests.Session):
		mine = []
		while time.perf_counter() < deadline:
			started = time.perf_counter()
			response = session.get(
				f"{base}/api/method/frappe.desk.reportview.get", params=LIST_CALL, timeout=60
			)
			mine.append(time.perf_counter() - started)
			if response.status_code != 200 or not response.json().get("message", {}).get("values"):
				failures.append(response.status_code)
		with lock:
			latencies.extend(mine)

	started = time.perf_counter()
	threads = [threading.Thread(target=client, args=(session,)) for session in sessions]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join()
	elapsed = time.perf_counter() - started
	if failures:
		raise SystemExit(f"{len(failures)} list calls failed (statuses {sorted(set(failures))})")
	latencies.sort()
	return {
		"clients": clients,
		"requests": len(latencies),
		"per_second": len(latencies) / elapsed,
		"p50_ms": statistics.median(latencies) * 1000,
		"p95_ms": latencies[int(0.95 * (len(latencies) - 1))] * 1000,
	}


def main():
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--url", default="http://127.0.0.1:8000")
	parser.add_argument("--seconds", type=float, default=20)
	parser.add_argument("--clients", type=int, default=16)
	parser.add_argument("--user", default=DEMO_OFFICIAL)
	parser.add_argument("--password", default=DEMO_PASSWORD)
	args = parser.parse_args()
	server = requests.get(f"{args.url}/api/method/ping", timeout=10).headers.get("Server", "?")
	run_phase(args.url, 1, 2, args.user, args.password)  # warm-up: caches, worker processes
	print(f"server: {server}")
	for clients in (1, args.clients):
		result = run_phase(args.url, clients, args.seconds, args.user, args.password)
		print(
			f"{result['clients']:>2} client(s): {result['per_second']:.0f} requests/s, "
			f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms ({result['requests']} requests)"
		)


if __name__ == "__main__":
	main()
