"""Is the overdue job's selection served by its index at any case load? (see README.md)

Run through `benchmarks/run`, inside each benchmark site in turn (10k, then 1M cases), on the load
load.py keeps there. It times, p50 over the same rounds:
- select: the job's selection (`overdue.DUE_CASES_SQL`) when nothing new is due (what every
  15-minute run pays);
- count: a bare `count(*)` of open cases, answered from an index (the yardstick);
- job: a full `flag_overdue_cases()` run after `--newly-overdue` overdue cases were unflagged (flag,
  alert, commit), which leaves the data as it found it.
It prints select/count in the same run; a selection that scanned the history would grow with it.
"""

import argparse
import gc
import statistics
import sys
import time

import frappe

from unioncase.workflows import overdue

COUNT_SQL = "select count(*) from `tabGrievance` where status = 'Open'"


def parse_args(argv=None):
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--repetitions", type=int, default=30)
	parser.add_argument("--warmup", type=int, default=5)
	parser.add_argument("--newly-overdue", type=int, default=200, help="cases the timed job run flags")
	parser.add_argument("--job-runs", type=int, default=3)
	return parser.parse_known_args(argv)[0]  # the other benchmarks' options are shared by benchmarks/run


def timed(fn) -> float:
	started = time.perf_counter()
	fn()
	return (time.perf_counter() - started) * 1000


def unflag(limit: int) -> int:
	"""Make the latest `limit` overdue cases newly overdue again, as if their deadline just passed."""
	frappe.db.sql(
		"update `tabGrievance` set is_overdue = 0, overdue_since = null "
		"where status = 'Open' and is_overdue = 1 order by next_due_on desc limit %s",
		limit,
	)
	frappe.db.commit()
	return len(overdue.due_cases(frappe.utils.now_datetime(), limit + 1000))


def measure(args) -> dict:
	now = frappe.utils.now_datetime()
	overdue.flag_overdue_cases()  # whatever fell due since the demo's anchor
	samples = {"select": [], "count": []}
	gc.collect()
	for round_ in range(args.warmup + args.repetitions):
		select = timed(lambda: overdue.due_cases(now, overdue.DEFAULT_BATCH_SIZE))
		count = timed(lambda: frappe.db.sql(COUNT_SQL))
		if round_ >= args.warmup:
			samples["select"].append(select)
			samples["count"].append(count)
	job, flagged = [], []
	for _run in range(args.job_runs):
		due = unflag(args.newly_overdue)
		started = time.perf_counter()
		flagged.append(overdue.flag_overdue_cases())
		job.append((time.perf_counter() - started) * 1000)
		flagged[-1] = (due, flagged[-1])
	explain = frappe.db.sql(
		"explain " + overdue.DUE_CASES_SQL, {"now": now, "limit": overdue.DEFAULT_BATCH_SIZE}, as_dict=True
	)
	counts = frappe.db.sql(
		"select count(*), sum(status = 'Open'), sum(status = 'Open' and is_overdue = 1) from `tabGrievance`"
	)[0]
	return {
		"select": statistics.median(samples["select"]),
		"count": statistics.median(samples["count"]),
		"job": statistics.median(job),
		"flagged": flagged,
		"explain": explain,
		"rows": counts,
	}


def main(argv=None):
	args = parse_args(argv)
	frappe.init()
	frappe.connect()
	frappe.set_user("Administrator")
	report(args, measure(args))
	frappe.destroy()
	return 0


def fmt_cases(n: int) -> str:
	if n >= 1_000_000 and n % 1_000_000 == 0:
		return f"{n // 1_000_000}M"
	if n >= 1000 and n % 1000 == 0:
		return f"{n // 1000}k"
	return f"{n:,}"


def report(args, r):
	total, open_, flagged_total = r["rows"]
	print()
	print(
		f"Overdue job at {fmt_cases(int(total))} cases: p50 ms over {args.repetitions} runs ({args.warmup} warm-up);"
		f" job: median of {args.job_runs}"
	)
	header = f"  {'cases':>8}{'open':>8}{'overdue':>9}{'select':>9}{'count':>9}{'select/count':>14}{'job':>10}{'flagged':>9}"
	print(header)
	print(
		f"  {fmt_cases(int(total)):>8}{int(open_):>8,}{int(flagged_total):>9,}{r['select']:>9.2f}{r['count']:>9.2f}"
		f"{r['select'] / r['count']:>14.2f}{r['job']:>10.1f}{r['flagged'][0][1]:>9}"
	)
	print(
		f"  job per flagged case: {r['job'] / max(1, r['flagged'][0][1]):.2f} ms; runs (due before, flagged): {r['flagged']}"
	)
	print(f"  plan: {overdue.DUE_CASES_SQL}")
	for row in r["explain"]:
		print(
			"    "
			+ "  ".join(f"{c}={row.get(c)}" for c in ("type", "key", "key_len", "ref", "rows", "Extra"))
		)


if __name__ == "__main__":
	sys.exit(main())
