"""Does an official's list of open cases stay fast as the case history grows? (see README.md)

Run through `benchmarks/run`, which enters the bench site first. Generates the demo tree and a small
case load, measures, tops up to a large case load, measures again and prints the comparison.
"""

import argparse
import gc
import statistics
import sys
import time

import frappe
from frappe import _

from unioncase.demo import generator
from unioncase.hierarchy.api import get_count

LIST_FIELDS = ["name", "subject", "status", "owning_union", "modified"]
OPEN = {"status": "Open"}
TARGET_RATIO = 1.5
EMPTY_UNION_EMAIL = f"bench.empty@{generator.DEMO_DOMAIN}"
EMPTY_EMPLOYER = "PT Bench Tanpa Kasus"


def load_arguments(description: str) -> argparse.ArgumentParser:
	"""The options every benchmark shares: the two case loads, the generated tree and the timing rounds."""
	parser = argparse.ArgumentParser(description=description)
	parser.add_argument("--cases-small", type=int, default=10_000)
	parser.add_argument("--cases-large", type=int, default=1_000_000)
	parser.add_argument("--members", type=int, default=5_000)
	parser.add_argument("--workplace-unions", type=int, default=300)
	parser.add_argument("--seed", type=int, default=42)
	parser.add_argument("--repetitions", type=int, default=30)
	parser.add_argument("--warmup", type=int, default=5)
	parser.add_argument(
		"--settle", type=int, default=90, help="seconds to wait at most for MariaDB to go quiet after a load"
	)
	return parser


def parse_args(argv=None):
	parser = load_arguments(__doc__.splitlines()[0])
	parser.add_argument(
		"--stock-repetitions", type=int, default=3, help="runs of stock Frappe's slower query"
	)
	parser.add_argument(
		"--keep-cases",
		action="store_true",
		help="do not empty the case tables first (the small measurement then sees whatever is there)",
	)
	return parser.parse_args(argv)


def list_open_cases():
	return frappe.get_list(
		"Grievance", filters=OPEN, fields=LIST_FIELDS, order_by="modified desc", limit_page_length=20
	)


def scoped_count():
	return get_count("Grievance", OPEN)


OPERATIONS = (("list", list_open_cases), ("count", scoped_count))


def ensure_empty_scope(plan: dict) -> dict:
	"""A workplace union that owns no case, with its own official."""
	branch = plan["branches"][0]
	union = f"PUK {plan['federations'][0]['union_abbreviation']} {EMPTY_EMPLOYER}"
	if not frappe.db.exists("Employer", EMPTY_EMPLOYER):
		frappe.get_doc(
			{
				"doctype": "Employer",
				"employer_name": EMPTY_EMPLOYER,
				"sector": branch["sector"],
				"province": branch["province"],
				"city": branch["place"],
				"workers_count": 120,
			}
		).insert(ignore_permissions=True)
	if not frappe.db.exists("Union", union):
		frappe.get_doc(
			{
				"doctype": "Union",
				"union_name": union,
				"level": "Workplace Union",
				"parent_union": branch["union_name"],
				"is_group": 0,
				"sector": branch["sector"],
				"province": branch["province"],
				"region": branch["region"],
				"employer": EMPTY_EMPLOYER,
			}
		).insert(ignore_permissions=True)
	generator.ensure_user(EMPTY_UNION_EMAIL, "Bench Tanpa Kasus", "Workplace Union Official", union)
	return {"label": "empty union", "email": EMPTY_UNION_EMAIL, "union": union}


def scopes_for(summary: dict) -> list[dict]:
	by_role = {user["role"]: user for user in summary["users"]}
	scopes = []
	for label, role in (
		("workplace union", "Workplace Union Official"),
		("branch", "Branch Official"),
		("federation", "Federation Official"),
	):
		user = by_role[role]
		scopes.append({"label": label, "email": user["email"], "union": user["union"]})
	scopes.append(ensure_empty_scope(summary["plan"]))
	frappe.db.commit()
	return scopes


def innodb_status(name: str) -> int:
	rows = frappe.db.sql("show global status like %s", name)
	return int(rows[0][1]) if rows else 0


def settle(max_wait: int) -> float:
	"""Wait until InnoDB has finished what a bulk load leaves behind (page flushing, purge), so that
	background I/O on this small machine does not land in one side of the comparison."""
	started = time.perf_counter()
	writes = innodb_status("Innodb_data_writes")
	while time.perf_counter() - started < max_wait:
		time.sleep(2)
		now = innodb_status("Innodb_data_writes")
		if now - writes < 20 and innodb_status("Innodb_history_list_length") < 100:
			break
		writes = now
	return time.perf_counter() - started


def measure(scopes: list[dict], repetitions: int, warmup: int) -> dict:
	"""p50/p95 in milliseconds per (scope, operation), each run as the scope's official.

	Repetitions go round-robin over scopes and operations, so a burst of load from elsewhere on the
	machine spreads over all of them instead of skewing one.
	"""
	samples = {(scope["label"], op): [] for scope in scopes for op, _fn in OPERATIONS}
	# Leave the garbage of generation behind: a full collection mid-measurement would land on one sample.
	gc.collect()
	gc.freeze()
	for round_ in range(warmup + repetitions):
		for scope in scopes:
			frappe.set_user(scope["email"])
			for op, fn in OPERATIONS:
				started = time.perf_counter()
				fn()
				elapsed = (time.perf_counter() - started) * 1000
				if round_ >= warmup:
					samples[(scope["label"], op)].append(elapsed)
	for scope in scopes:
		frappe.set_user(scope["email"])
		scope["scoped_count"] = scoped_count()
		scope["first_page"] = len(list_open_cases())
	frappe.set_user("Administrator")
	gc.unfreeze()
	return {key: percentiles(values) for key, values in samples.items()}


def percentiles(samples: list[float]) -> tuple[float, float]:
	ordered = sorted(samples)
	p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
	return statistics.median(ordered), p95


def query_plans(scopes: list[dict]) -> dict:
	"""The SQL Frappe ran for each scope's list and count (`frappe.db.last_query`), and its EXPLAIN.

	`frappe.get_list(..., run=0)` returns a query-builder object on this Frappe, whose rendering differs
	slightly from what is executed, so the executed statement is taken instead.
	"""
	plans = {}
	for scope in scopes:
		statements = {}
		frappe.set_user(scope["email"])
		for op, fn in OPERATIONS:
			fn()
			statements[op] = frappe.db.last_query
		frappe.set_user("Administrator")
		for op, sql in statements.items():
			plans[(scope["label"], op)] = (sql, frappe.db.sql("explain " + sql, as_dict=True))
	return plans


def row_counts(scopes: list[dict]) -> dict:
	"""Cases and open cases overall and in each scope's subtree, counted directly as Administrator."""
	counts = {"total": count_cases(), "open": count_cases("Open")}
	for scope in scopes:
		lft, rgt = frappe.db.get_value("Union", scope["union"], ["lft", "rgt"])
		unions = frappe.get_all("Union", filters={"lft": [">=", lft], "rgt": ["<=", rgt]}, pluck="name")
		scope["unions"] = len(unions)
		scope["subtree"] = unions
		counts[scope["label"]] = (count_cases(unions=unions), count_cases("Open", unions))
	return counts


def stock_frappe(scopes: list[dict], repetitions: int) -> dict:
	"""p50 ms of the same page and count with only the condition stock Frappe builds from the User
	Permission (strict mode off): `coalesce(owning_union,'')='' or owning_union in (<subtree>)`."""
	results = {}
	for scope in scopes:
		values = ", ".join(frappe.db.escape(union, percent=False) for union in scope["subtree"])
		where = f"status = 'Open' and (coalesce(`owning_union`, '') = '' or `owning_union` in ({values}))"
		statements = {
			"list": f"select {', '.join(LIST_FIELDS)} from `tabGrievance` where {where} order by modified desc limit 20",
			"count": f"select count(*) from `tabGrievance` where {where}",
		}
		for op, sql in statements.items():
			samples = []
			for _round in range(repetitions):
				started = time.perf_counter()
				frappe.db.sql(sql)
				samples.append((time.perf_counter() - started) * 1000)
			results[(scope["label"], op)] = statistics.median(samples)
	return results


def count_cases(status: str | None = None, unions: list[str] | None = None) -> int:
	conditions, values = [], []
	if status:
		conditions.append("status = %s")
		values.append(status)
	if unions is not None:
		conditions.append("owning_union in %s")
		values.append(tuple(unions) or ("",))
	where = (" where " + " and ".join(conditions)) if conditions else ""
	return frappe.db.sql(f"select count(*) from `tabGrievance`{where}", tuple(values))[0][0]


def generate(cases: int, args) -> tuple[dict, float]:
	started = time.perf_counter()
	summary = generator.make_demo(
		cases=cases, members=args.members, workplace_unions=args.workplace_unions, seed=args.seed, quiet=True
	)
	return summary, time.perf_counter() - started


def reset_cases():
	for doctype in ("Grievance Tag Link", "Grievance"):
		frappe.db.truncate(doctype)
	frappe.db.commit()


def main(argv=None):
	args = parse_args(argv)
	frappe.init()
	frappe.connect()
	frappe.set_user("Administrator")
	if not args.keep_cases:
		reset_cases()

	small, small_time = generate(args.cases_small, args)
	scopes = scopes_for(small)
	small_counts = row_counts(scopes)
	small["settled"] = settle(args.settle)
	small_results = measure(scopes, args.repetitions, args.warmup)

	large, large_time = generate(args.cases_large, args)
	large_counts = row_counts(scopes)
	large["settled"] = settle(args.settle)
	large_results = measure(scopes, args.repetitions, args.warmup)
	plans = query_plans(scopes)
	stock = stock_frappe(scopes, args.stock_repetitions)

	report(
		args,
		scopes,
		(small, small_time, small_counts, small_results),
		(large, large_time, large_counts, large_results),
		plans,
		stock,
	)
	frappe.destroy()
	return 0


def fmt_cases(n: int) -> str:
	if n >= 1_000_000 and n % 1_000_000 == 0:
		return f"{n // 1_000_000}M"
	if n >= 1000 and n % 1000 == 0:
		return f"{n // 1000}k"
	return f"{n:,}"


def report(args, scopes, small, large, plans, stock):
	small_summary, small_time, small_counts, small_results = small
	large_summary, large_time, large_counts, large_results = large
	s, l = fmt_cases(small_summary["cases"]), fmt_cases(large_summary["cases"])
	out = sys.stdout
	print(file=out)
	print(_("Generation"), file=out)
	print(
		f"  {s:>6} cases: {small_time:8.1f} s (tree, members and users included: {small_summary['timings']['tree']:.1f} s)",
		file=out,
	)
	added = large_summary["added"]
	rate = added / large_summary["timings"]["cases"] if large_summary["timings"]["cases"] else 0
	print(
		f"  {l:>6} cases: {large_time:8.1f} s for the {added:,} added cases ({rate:,.0f} cases/s)", file=out
	)
	print(
		_("  waited for MariaDB to go quiet before measuring: {0:.0f} s at {1}, {2:.0f} s at {3}").format(
			small_summary["settled"], s, large_summary["settled"], l
		),
		file=out,
	)

	print(file=out)
	print(_("Row counts (cases / open cases)"), file=out)
	print(f"  {'':<18}{s:>22}{l:>22}", file=out)
	print(
		f"  {'all':<18}{pair(small_counts['total'], small_counts['open']):>22}{pair(large_counts['total'], large_counts['open']):>22}",
		file=out,
	)
	for scope in scopes:
		label = scope["label"]
		print(f"  {label:<18}{pair(*small_counts[label]):>22}{pair(*large_counts[label]):>22}", file=out)

	print(file=out)
	print(_("Scopes"), file=out)
	for scope in scopes:
		print(
			f"  {scope['label']:<18}{scope['email']:<42}{scope['unions']:>4} unions  {scope['union']}",
			file=out,
		)

	print(file=out)
	print(
		_(
			"Open cases as each official, ms over {0} runs after {1} warm-up runs (target: p50 ratio <= {2})"
		).format(args.repetitions, args.warmup, TARGET_RATIO),
		file=out,
	)
	header = f"  {'scope':<18}{'op':<7}{'p50 ' + s:>11}{'p95 ' + s:>11}{'p50 ' + l:>11}{'p95 ' + l:>11}{'ratio':>8}  "
	print(header, file=out)
	print("  " + "-" * (len(header) + 6), file=out)
	worst = 0.0
	for scope in scopes:
		for op, _fn in OPERATIONS:
			key = (scope["label"], op)
			(p50s, p95s), (p50l, p95l) = small_results[key], large_results[key]
			ratio = p50l / p50s if p50s else float("inf")
			worst = max(worst, ratio)
			flag = "ok" if ratio <= TARGET_RATIO else "OVER"
			print(
				f"  {scope['label']:<18}{op:<7}{p50s:>11.2f}{p95s:>11.2f}{p50l:>11.2f}{p95l:>11.2f}{ratio:>8.2f}  {flag}",
				file=out,
			)
	for scope in scopes:
		label = scope["label"]
		if scope["scoped_count"] != large_counts[label][1]:
			print(
				_("  ! {0}: the scoped count says {1}, the subtree holds {2} open cases").format(
					label, scope["scoped_count"], large_counts[label][1]
				),
				file=out,
			)

	print(file=out)
	print(
		_("Stock Frappe's condition alone at {0} cases, p50 ms over {1} runs, against UnionCase's").format(
			l, args.stock_repetitions
		),
		file=out,
	)
	for scope in scopes:
		for op, _fn in OPERATIONS:
			key = (scope["label"], op)
			ours = large_results[key][0]
			print(
				f"  {scope['label']:<18}{op:<7}{stock[key]:>11.2f}{ours:>11.2f}{stock[key] / ours:>9.1f}x",
				file=out,
			)

	print(file=out)
	print(_("Query plans at {0} cases").format(l), file=out)
	columns = ("id", "select_type", "table", "type", "key", "key_len", "ref", "rows", "Extra")
	for (label, op), (sql, explain) in plans.items():
		print(f"  [{label} / {op}]", file=out)
		print("    " + squash(sql), file=out)
		for row in explain:
			print("    " + "  ".join(f"{c}={row.get(c)}" for c in columns), file=out)
	print(file=out)
	verdict = _("all within target") if worst <= TARGET_RATIO else _("some over target")
	print(_("Worst p50 ratio {0:.2f}: {1}").format(worst, verdict), file=out)


def pair(total: int, open_: int) -> str:
	return f"{total:,} / {open_:,}"


def squash(sql: str, limit: int = 600) -> str:
	"""The SQL on one line, its IN-lists shortened so the output stays readable."""
	text = " ".join(str(sql).split())
	return text if len(text) <= limit else text[:limit] + f" ... [{len(text):,} chars]"


if __name__ == "__main__":
	sys.exit(main())
