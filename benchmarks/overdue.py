"""Is the overdue job's selection served by its index at any case load? (see README.md)

Run through `benchmarks/run`, after scoped_list.py: the large case load that one leaves behind is
measured as it is, then the small one is generated and measured (without a large load there, both
are generated, small first). At each load it times, p50 over the same rounds:
- select: the job's selection (`overdue.DUE_CASES_SQL`) when nothing new is due (what every
  15-minute run pays);
- count: a bare `count(*)` of open cases, answered from an index (the yardstick);
- job: a full `flag_overdue_cases()` run after `--newly-overdue` overdue cases were unflagged (flag,
  alert, commit), which leaves the data as it found it.
It prints select/count in the same run; a selection that scanned the history would grow with it.
"""

import gc
import statistics
import sys
import time

import frappe
from scoped_list import fmt_cases, generate, load_arguments, reset_cases, settle

from unioncase.workflows import overdue

COUNT_SQL = "select count(*) from `tabGrievance` where status = 'Open'"


def parse_args(argv=None):
	parser = load_arguments(__doc__.splitlines()[0])
	parser.add_argument("--newly-overdue", type=int, default=200, help="cases the timed job run flags")
	parser.add_argument("--job-runs", type=int, default=3)
	parser.add_argument(
		"--fresh", action="store_true", help="generate both loads even if the large one is already there"
	)
	return parser.parse_known_args(argv)[0]  # scoped_list.py's options are shared by benchmarks/run


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
	results = {}
	loads = [args.cases_small, args.cases_large]
	if not args.fresh and frappe.db.count("Grievance") >= args.cases_large:
		# scoped_list.py has just built the large load: measure it first, then rebuild only the small one
		summary, took = generate(args.cases_large, args)
		settle(args.settle)
		results[summary["cases"]] = (took, measure(args))
		loads.pop()
	reset_cases()
	for cases in loads:
		summary, took = generate(cases, args)
		settle(args.settle)
		results[summary["cases"]] = (took, measure(args))
	results = dict(sorted(results.items()))
	report(args, results)
	frappe.destroy()
	return 0


def report(args, results):
	print()
	print(
		f"Overdue job: p50 ms over {args.repetitions} runs ({args.warmup} warm-up); job: median of {args.job_runs}"
	)
	header = f"  {'cases':>8}{'open':>8}{'overdue':>9}{'select':>9}{'count':>9}{'select/count':>14}{'job':>10}{'flagged':>9}"
	print(header)
	print("  " + "-" * (len(header) - 2))
	for cases, (_took, r) in results.items():
		_total, open_, flagged_total = r["rows"]
		print(
			f"  {fmt_cases(cases):>8}{int(open_):>8,}{int(flagged_total):>9,}{r['select']:>9.2f}{r['count']:>9.2f}"
			f"{r['select'] / r['count']:>14.2f}{r['job']:>10.1f}{r['flagged'][0][1]:>9}"
		)
	(small, (_t, rs)), (large, (_t2, rl)) = results.items()
	print()
	print(f"  select at {fmt_cases(large)} / at {fmt_cases(small)}: {rl['select'] / rs['select']:.2f}")
	print(f"  job per flagged case at {fmt_cases(large)}: {rl['job'] / max(1, rl['flagged'][0][1]):.2f} ms")
	print(f"  job runs (due before, flagged): {rl['flagged']}")
	print()
	print(f"  plan at {fmt_cases(large)}: {overdue.DUE_CASES_SQL}")
	for row in rl["explain"]:
		print(
			"    "
			+ "  ".join(f"{c}={row.get(c)}" for c in ("type", "key", "key_len", "ref", "rows", "Extra"))
		)


if __name__ == "__main__":
	sys.exit(main())
