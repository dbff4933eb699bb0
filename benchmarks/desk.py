"""What the Desk calls for an official's case views, over HTTP through the running server, at two loads.

Logs in as the widest and the narrowest scoped official (a federation's, a workplace union's) on both
benchmark sites (10k and 1M cases, each served by its own gunicorn as setup.sh starts it) and times
every call of desk_calls.py plus the runtime's `ping`, round-robin over sites, officials and calls:
warm-up rounds, then timed rounds; warm against warm. Prints p50 per call at each load, the ratio
1M/10k (target <= 1.5) and 1M/ping (target <= 5), and the access path of what the call ran at 1M
(EXPLAIN, from in_process.py); a call that scans (type ALL or a full index, or sorts, over more than
LARGE_SET rows) fails its line. Then the stock Frappe comparison in_process.py measured.
"""

import argparse
import json
import statistics
import sys
import time

import requests
from desk_calls import PASSWORD, PING, SCOPES, calls

TARGET_GROWTH = 1.5
TARGET_PING = 5.0
# More rows than the open backlog of a whole federation: reading that many is reading the history.
LARGE_SET = 10_000


def parse_args(argv=None):
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--small-url", required=True)
	parser.add_argument("--large-url", required=True)
	parser.add_argument("--small-plans", required=True)
	parser.add_argument("--large-plans", required=True)
	parser.add_argument("--repetitions", type=int, default=30)
	parser.add_argument("--warmup", type=int, default=5)
	return parser.parse_known_args(argv)[0]


def wait_for(url: str, seconds: float = 120):
	deadline = time.monotonic() + seconds
	while time.monotonic() < deadline:
		try:
			if requests.get(f"{url}/api/method/{PING}", timeout=5).status_code == 200:
				return
		except requests.RequestException:
			pass
		time.sleep(0.5)
	raise SystemExit(f"The server at {url} did not answer {PING} within {seconds:.0f} s")


def login(url: str, email: str) -> requests.Session:
	session = requests.Session()
	response = session.post(f"{url}/api/method/login", json={"usr": email, "pwd": PASSWORD}, timeout=30)
	response.raise_for_status()
	return session


def check(label: str, response: requests.Response):
	"""Every call must answer 200 with a message of the expected shape, or the timing means nothing."""
	if response.status_code != 200:
		raise SystemExit(f"{label}: HTTP {response.status_code}: {response.text[:300]}")
	message = response.json().get("message")
	if label.startswith(("list", "all", "kanban")) and not isinstance(message, dict | list):
		raise SystemExit(f"{label}: unexpected answer {str(message)[:200]}")


def measure(args, sites: dict) -> tuple[dict, dict]:
	"""p50 ms per (site, scope, call) and of ping per site; the rows each call returned."""
	sessions = {(site, scope): login(url, email) for site, url in sites.items() for scope, email in SCOPES}
	samples, shapes = {}, {}
	for round_ in range(args.warmup + args.repetitions):
		for (site, scope), session in sessions.items():
			url = sites[site]
			for label, method, params in [(PING, PING, {}), *calls()]:
				started = time.perf_counter()
				response = session.get(f"{url}/api/method/{method}", params=params, timeout=120)
				elapsed = (time.perf_counter() - started) * 1000
				if round_ == 0:
					check(f"{site} {scope} {label}", response)
					shapes[(site, scope, label)] = summarise(label, response.json().get("message"))
				if round_ >= args.warmup:
					samples.setdefault((site, scope, label), []).append(elapsed)
	return {key: statistics.median(values) for key, values in samples.items()}, shapes


def summarise(label: str, message) -> str:
	if isinstance(message, dict) and "values" in message:
		return f"{len(message['values'])} rows"
	if isinstance(message, list):
		return f"{len(message)} {'groups' if 'group-by' in label else 'rows'}"
	return str(message)


def access(plans: list[dict]) -> tuple[str, bool]:
	"""One line per statement's table accesses, and whether any reads a large set without an index."""
	parts, scans = [], False
	for plan in plans:
		for row in plan["explain"]:
			# what the step really read (ANALYZE), else the optimizer's estimate
			rows = int(float(row.get("r_rows") or row.get("rows") or 0))
			extra = row.get("Extra") or ""
			kind = row.get("type")
			large = rows > LARGE_SET
			if large and (kind in ("ALL", "index") or "filesort" in extra or "temporary" in extra):
				scans = True
			if row.get("table", "").startswith("<"):
				continue  # the derived table of a count: its row estimate is the inner statement's
			short = ", ".join(word for word in ("filesort", "temporary", "index") if f"Using {word}" in extra)
			parts.append(f"{kind}:{row.get('key') or '-'}:{rows}" + (f"({short})" if short else ""))
	return " ".join(parts) or "-", scans


def main(argv=None):
	args = parse_args(argv)
	sites = {"small": args.small_url, "large": args.large_url}
	plans = {}
	for site, path in (("small", args.small_plans), ("large", args.large_plans)):
		with open(path) as f:
			plans[site] = json.load(f)
	for url in sites.values():
		wait_for(url)
	p50, shapes = measure(args, sites)
	report(args, plans, p50, shapes)
	return 0


def fmt_cases(n: int) -> str:
	if n >= 1_000_000 and n % 1_000_000 == 0:
		return f"{n // 1_000_000}M"
	if n >= 1000 and n % 1000 == 0:
		return f"{n // 1000}k"
	return f"{n:,}"


def report(args, plans, p50, shapes):
	small, large = plans["small"], plans["large"]
	s, l = fmt_cases(small["cases"]), fmt_cases(large["cases"])
	print()
	print(
		f"Loads: {small['cases']:,} cases ({small['open']:,} open) and {large['cases']:,} ({large['open']:,} open)"
	)
	for scope, email in SCOPES:
		a, b = small["scopes"][scope], large["scopes"][scope]
		print(
			f"  {scope:<11}{email:<40}{b['unions']:>4} unions  {a['cases']:,} / {a['open']:,} open at {s},"
			f" {b['cases']:,} / {b['open']:,} open at {l}"
		)
	print()
	print(
		f"Desk calls over HTTP, p50 ms over {args.repetitions} rounds after {args.warmup} warm-up rounds"
		f" (targets: {l}/{s} <= {TARGET_GROWTH}, {l}/ping <= {TARGET_PING}, no scan of more than {LARGE_SET:,} rows)"
	)
	for site, label in (("small", s), ("large", l)):
		pings = [p50[(site, scope, PING)] for scope, _email in SCOPES]
		print(
			f"  ping at {label}: "
			+ ", ".join(f"{scope} {value:.2f} ms" for (scope, _e), value in zip(SCOPES, pings, strict=True))
		)
	header = f"  {'call':<36}{'scope':<11}{'p50 ' + s:>9}{'p50 ' + l:>9}{l + '/' + s:>8}{l + '/ping':>9}  {'answer':<10} access at {l} (type:key:rows)"
	print(header)
	print("  " + "-" * (len(header) + 10))
	failures = 0
	worst_growth = worst_ping = 0.0
	for label, _method, _params in calls():
		for scope, _email in SCOPES:
			a, b = p50[("small", scope, label)], p50[("large", scope, label)]
			ping = p50[("large", scope, PING)]
			growth, over_ping = b / a, b / ping
			worst_growth, worst_ping = max(worst_growth, growth), max(worst_ping, over_ping)
			path, scans = access(large["plans"].get(f"{scope}|{label}", []))
			verdict = []
			if growth > TARGET_GROWTH:
				verdict.append("SLOWER")
			if over_ping > TARGET_PING:
				verdict.append("OVER-PING")
			if scans:
				verdict.append("SCAN")
			failures += bool(verdict)
			print(
				f"  {label:<36}{scope:<11}{a:>9.2f}{b:>9.2f}{growth:>8.2f}{over_ping:>9.2f}  "
				f"{shapes[('large', scope, label)]:<10} {path}  {' '.join(verdict) or 'ok'}"
			)
	print()
	warmup, rounds = large.get("stock_rounds", ["?", "?"])
	print(
		f"Stock Frappe against the app, in-process frappe.get_list as each official, p50 ms over {rounds}"
		f" rounds after {warmup} warm-up round(s), the same for both paths, round-robin"
	)
	print(
		f"  {'op':<20}{'scope':<11}{'app ' + s:>10}{'stock ' + s:>10}{'app ' + l:>10}{'stock ' + l:>10}{'stock/app ' + l:>15}"
	)
	ops = sorted(
		{key.split("|")[1] for key in large["stock"]},
		key=list(dict.fromkeys(k.split("|")[1] for k in large["stock"])).index,
	)
	for op in ops:
		for scope, _email in SCOPES:
			values = [
				plans[site]["stock"][f"{scope}|{op}|{path}"]["p50"]
				for site in ("small", "large")
				for path in ("app", "stock")
			]
			print(
				f"  {op:<20}{scope:<11}"
				+ "".join(f"{v:>10.2f}" for v in values)
				+ f"{values[3] / values[2]:>14.1f}x"
			)
	print()
	print(
		f"Worst {l}/{s}: {worst_growth:.2f}; worst {l}/ping: {worst_ping:.2f}; lines failing a target: {failures}"
	)
	print()
	print(f"Statements at {l} (first 300 characters), with EXPLAIN")
	for key, statements in large["plans"].items():
		for plan in statements:
			print(f"  [{key}] " + " ".join(plan["sql"].split())[:300])
			for row in plan["explain"]:
				print("      " + "  ".join(f"{k}={v}" for k, v in row.items()))
	return failures


if __name__ == "__main__":
	sys.exit(main())
