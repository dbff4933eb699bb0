"""The analytics reports and the comparable export, in-process inside one benchmark site (README.md).

`reports.py measure --out FILE` (inside a site): as the widest (federation) and the narrowest
(workplace union) scoped official,
- each report's `execute` and the export's table with their default filters (the last twelve whole
  months): p50, and the EXPLAIN of every statement it runs on the case table;
- each report over all time, round-robin with the bare SQL GROUP BY over the raw cases that gives
  the same counts (the report's default dimension, the official's scope, the report's own status
  condition): p50 of both;
- the peak Python memory (tracemalloc) of each report over all time as the federation's official.
`reports.py print SMALL.json MEDIUM.json [LARGE.json]` prints the comparison: the default view of the
largest against the smallest (with two files, 100k against 10k: the generator's ~100 cases a day put
the same ~36k cases in the 100k and the 1M site's last twelve months), all time per site, and the
memory of the largest against the medium. `--default-only` measures the default view alone.
"""

import argparse
import gc
import json
import statistics
import sys
import time
import tracemalloc

import frappe
from desk_calls import CASE, SCOPES
from in_process import case_queries

ALL_TIME = {"from_date": "2000-01-01"}
# report: (module, the bare GROUP BY's dimension column, its extra condition). The bare query counts
# the same cases the report counts per its default dimension (the roll-up of subcategories and the
# medians, bands and shares are the report's own shaping on top of such counts).
REPORTS = {
	"Case Volume": ("case_volume", "category", "received_on >= %(from_date)s"),
	"Resolution Performance": ("resolution_performance", "owning_level", "received_on >= %(from_date)s"),
	"Open Case Ageing": ("open_case_ageing", "owning_union", "status = 'Open'"),
	"Outcomes and Remedies": (
		"outcomes_and_remedies",
		"category",
		"((status in ('Resolved', 'Closed') and resolved_on >= %(from_date)s)"
		" or (status = 'Rejected' and modified >= %(from_date)s))",
	),
	"Who Is Affected": ("who_is_affected", "category", "received_on >= %(from_date)s"),
	"Employers and Brands": ("employers_and_brands", "employer", "received_on >= %(from_date)s"),
}
EXPORT = "Comparable Export (table)"
SCOPE_COLUMN = {
	"Workplace Union": "originating_union",
	"Branch": "branch",
	"Federation": "federation",
	"Confederation": "confederation",
}


def parse_args(argv=None):
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("command", choices=["measure", "print"])
	parser.add_argument("files", nargs="*")
	parser.add_argument("--out")
	parser.add_argument("--repetitions", type=int, default=5)
	parser.add_argument("--warmup", type=int, default=1)
	parser.add_argument("--all-time-repetitions", type=int, default=3)
	parser.add_argument("--default-only", action="store_true")
	return parser.parse_known_args(argv)[0]


def report_fn(name: str, filters: dict):
	import importlib

	module = importlib.import_module(f"unioncase.reports.{REPORTS[name][0]}")
	return lambda: module.execute(dict(filters))


def export_fn():
	from frappe.utils import getdate, nowdate

	from unioncase.reports import export
	from unioncase.reports.queries import default_from_date

	def run():
		union = export.resolve_scope(frappe.session.user, None)
		start, end = export.align("Quarter", default_from_date(), getdate(nowdate()))
		# the record's fields only (build_table reads no more): the kept sites may predate the DocType
		doc = frappe._dict(union=union, from_date=start, to_date=end, period="Quarter", minimum_cell_count=5)
		return export.build_table(doc)

	return run


def scope_of(email: str) -> tuple[str, str]:
	union = frappe.db.get_value("User Permission", {"user": email, "allow": "Union"}, "for_value")
	return SCOPE_COLUMN[frappe.db.get_value("Union", union, "level")], union


def bare_fn(name: str, email: str):
	_module, dimension, condition = REPORTS[name]
	column, union = scope_of(email)
	sql = f"""select `{dimension}`, count(*) from `tab{CASE}`
		where `{column}` = %(union)s and {condition} group by `{dimension}`"""
	values = {"union": union, **ALL_TIME}
	return lambda: frappe.db.sql(sql, values)


def timed(fn) -> float:
	started = time.perf_counter()
	fn()
	return (time.perf_counter() - started) * 1000


def plans_of(fn) -> list[str]:
	"""`type:key:rows` of each step of EXPLAIN, for every statement `fn` runs on the case table."""
	out = []
	for query in case_queries(fn):
		text = query.strip()
		if text.upper().startswith("SET STATEMENT"):
			text = text[text.upper().index(" FOR ") + 5 :]
		steps = frappe.db.sql("explain " + text, as_dict=True)
		source = (
			"rollup+analytics: "
			if "`tabGrievance Analytics Monthly`" in text
			else "analytics: "
			if "`tabGrievance Analytics`" in text
			else "cases: "
		)
		out.append(
			source
			+ " ".join(
				f"{row.get('table')}={row.get('type')}:{row.get('key')}:{row.get('rows')}"
				+ ("(filesort)" if "filesort" in str(row.get("Extra") or "") else "")
				for row in steps
			)
		)
	return out


def measure(args) -> dict:
	result = {"cases": frappe.db.count(CASE), "default": {}, "all_time": {}, "memory": {}}
	calls = {name: None for name in REPORTS} | {EXPORT: None}
	gc.collect()
	for scope, email in SCOPES:
		frappe.set_user(email)
		fns = {name: report_fn(name, {}) for name in REPORTS} | {EXPORT: export_fn()}
		for name, fn in fns.items():
			samples = [timed(fn) for _ in range(args.warmup + args.repetitions)][args.warmup :]
			result["default"][f"{scope}|{name}"] = {
				"p50": statistics.median(samples),
				"plans": plans_of(fn),
			}
		for name in [] if args.default_only else REPORTS:
			report, bare = report_fn(name, ALL_TIME), bare_fn(name, email)
			report_samples, bare_samples = [], []
			for _ in range(args.all_time_repetitions):
				report_samples.append(timed(report))
				bare_samples.append(timed(bare))
			result["all_time"][f"{scope}|{name}"] = {
				"report": statistics.median(report_samples),
				"bare": statistics.median(bare_samples),
			}
		if scope == "federation" and not args.default_only:
			for name in calls:
				fn = report_fn(name, ALL_TIME) if name in REPORTS else fns[name]
				gc.collect()
				tracemalloc.start()
				fn()
				peak = tracemalloc.get_traced_memory()[1]
				tracemalloc.stop()
				result["memory"][name] = peak
		frappe.set_user("Administrator")
	return result


def ratio(a, b) -> str:
	return f"{a / b:.2f}" if b else "-"


def print_results(files: list[str]):
	loads = [json.load(open(path)) for path in files]
	labels = ["10k", "100k", "1M"][: len(loads)]
	small, medium, large = loads[0], loads[1], loads[-1]
	top = labels[-1]
	counts = " / ".join(f"{load['cases']:,}" for load in loads)
	print(f"\nReports at {counts} cases (p50 ms, in-process)\n")
	print(f"Default filters (last 12 months): {top}/10k target <= 1.5")
	# with three loads, the largest against the medium too: both hold twelve full months of cases at the
	# same daily rate (the 10k site holds about a hundred days), so only the history behind them differs
	history = len(loads) == 3
	extra = " p50 100k | 1M/100k |" if history else ""
	print(
		f"| report | scope | p50 10k |{extra} p50 {top} | {top}/10k | | plan at {top} (table=type:key:rows est.) |"
	)
	print("| --- | --- | --- |" + (" --- | --- |" if history else "") + " --- | --- | --- | --- |")
	for key, big in large["default"].items():
		scope, name = key.split("|")
		few = small["default"][key]
		r = big["p50"] / few["p50"] if few["p50"] else 0
		plan = " ; ".join(big["plans"])[:400]
		middle = ""
		if history:
			mid = medium["default"][key]["p50"]
			middle = f" {mid:.1f} | {big['p50'] / mid if mid else 0:.2f} |"
		print(
			f"| {name} | {scope} | {few['p50']:.1f} |{middle} {big['p50']:.1f} | {r:.2f} | "
			f"{'ok' if r <= 1.5 else 'SLOWER'} | `{plan}` |"
		)
	if not any(load["all_time"] for load in loads):
		return  # --default-only
	print("\nAll time: report / bare SQL GROUP BY, target <= 1")
	print("| report | scope | load | report p50 | bare p50 | ratio | |")
	print("| --- | --- | --- | --- | --- | --- | --- |")
	for label, data in zip(labels, loads, strict=True):
		for key, row in data["all_time"].items():
			scope, name = key.split("|")
			r = row["report"] / row["bare"] if row["bare"] else 0
			print(
				f"| {name} | {scope} | {label} | {row['report']:.1f} | {row['bare']:.1f} | {r:.2f} | "
				f"{'ok' if r <= 1 else 'SLOWER'} |"
			)
	if len(loads) < 3 or not large["memory"]:
		return
	print("\nPeak Python memory (tracemalloc), all time, federation: 1M/100k target <= 1.2")
	print("| report | 100k MiB | 1M MiB | 1M/100k | |")
	print("| --- | --- | --- | --- | --- |")
	for name, peak in large["memory"].items():
		before = medium["memory"].get(name, 0)
		r = peak / before if before else 0
		print(
			f"| {name} | {before / 2**20:.1f} | {peak / 2**20:.1f} | {r:.2f} | "
			f"{'ok' if r <= 1.2 else 'GROWS'} |"
		)


def main(argv=None):
	args = parse_args(argv)
	if args.command == "print":
		print_results(args.files)
		return 0
	frappe.init()
	frappe.connect()
	result = measure(args)
	with open(args.out, "w") as out:
		json.dump(result, out, indent=1, default=str)
	frappe.destroy()
	return 0


if __name__ == "__main__":
	sys.exit(main())
