"""In-process half of the Desk benchmark, run inside one benchmark site (see README.md):

1. the stock Frappe path against the app's: the same `frappe.get_list` calls as each official, on
   Grievance (the app's hooks scope it) and on "Bench Stock Case" (the same rows, a union link that
   honours User Permissions: Frappe's own condition), round-robin, same warm-up and rounds;
2. the SQL each Desk call of desk_calls.py runs on the case table, and MariaDB's ANALYZE of it
   (EXPLAIN's plan with the rows each step really read).

Writes a JSON file that desk.py reads and prints beside the HTTP timings.
"""

import argparse
import gc
import json
import statistics
import sys
import time

import frappe
from desk_calls import CASE, LIST_FIELDS, SCOPES, calls
from load import STOCK

from unioncase.compat import aggregate

STAGE_WITH_FEW = "In Court"


def parse_args(argv=None):
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--out", required=True)
	parser.add_argument("--repetitions", type=int, default=30)
	parser.add_argument("--warmup", type=int, default=5)
	# Stock Frappe's count takes more than a minute at 1M cases: both paths get these rounds.
	parser.add_argument("--stock-repetitions", type=int, default=2)
	parser.add_argument("--stock-warmup", type=int, default=1)
	return parser.parse_known_args(argv)[0]


def operations(doctype: str) -> dict:
	"""The list, count, sidebar group-by and a small kanban column, through frappe.get_list."""
	open_ = {"status": "Open"}
	return {
		"list open": lambda: frappe.get_list(
			doctype, filters=open_, fields=LIST_FIELDS, order_by="modified desc", limit_page_length=20
		),
		"count open": lambda: frappe.get_list(
			doctype, filters=open_, fields=[aggregate("count", "*", "total")], order_by=None
		),
		"group-by stage": lambda: frappe.get_list(
			doctype,
			filters=open_,
			fields=[aggregate("count", "*", "count"), "workflow_state as name"],
			group_by="workflow_state",
			order_by="count desc",
		),
		f"kanban {STAGE_WITH_FEW}": lambda: frappe.get_list(
			doctype,
			filters={**open_, "workflow_state": STAGE_WITH_FEW},
			fields=LIST_FIELDS,
			order_by="modified desc",
			limit_page_length=20,
		),
	}


def percentiles(samples: list[float]) -> dict:
	ordered = sorted(samples)
	return {
		"p50": statistics.median(ordered),
		"p95": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
	}


def stock_against_app(repetitions: int, warmup: int) -> dict:
	paths = {"app": operations(CASE), "stock": operations(STOCK)}
	samples = {}
	gc.collect()
	gc.freeze()
	for round_ in range(warmup + repetitions):
		for scope, email in SCOPES:
			frappe.set_user(email)
			for path, ops in paths.items():
				for op, fn in ops.items():
					started = time.perf_counter()
					rows = fn()
					elapsed = (time.perf_counter() - started) * 1000
					if round_ >= warmup:
						samples.setdefault(f"{scope}|{op}|{path}", []).append(elapsed)
					elif round_ == 0:
						samples.setdefault(f"{scope}|{op}|{path}|rows", len(rows))
	gc.unfreeze()
	frappe.set_user("Administrator")
	return {key: (value if key.endswith("|rows") else percentiles(value)) for key, value in samples.items()}


def case_queries(fn) -> list[str]:
	"""The statements on the case table that `fn` runs, as executed (values in place)."""
	original = frappe.db.sql
	seen = []

	def spy(*args, **kwargs):
		result = original(*args, **kwargs)
		query = str(frappe.db.last_query or "")
		if f"`tab{CASE}`" in query and " select" in " " + query.lower().replace("\n", " "):
			seen.append(query)
		return result

	frappe.db.sql = spy
	try:
		fn()
	finally:
		frappe.db.sql = original
	return seen


def explain(query: str) -> list[dict]:
	"""MariaDB's ANALYZE: the plan EXPLAIN prints, and the rows each step really read (r_rows), which
	for an index walked in ORDER BY ... LIMIT order is what EXPLAIN's estimate cannot tell."""
	text = query.strip()
	if text.upper().startswith("SET STATEMENT"):
		text = text[text.upper().index(" FOR ") + 5 :]
	rows = frappe.db.sql("analyze " + text, as_dict=True)
	keep = ("id", "select_type", "table", "type", "key", "rows", "r_rows", "Extra")
	return [{column: row.get(column) for column in keep} for row in rows]


def desk_plans() -> dict:
	from werkzeug.datastructures import Headers

	plans = {}
	for scope, email in SCOPES:
		for label, method, params in calls():
			frappe.set_user(email)
			frappe.local.form_dict = frappe._dict(params)
			frappe.local.response_headers = Headers()
			fn = frappe.get_attr(method)
			queries = case_queries(lambda fn=fn, params=params: frappe.call(fn, **params))
			frappe.set_user("Administrator")
			plans[f"{scope}|{label}"] = [
				{"sql": query[:2000], "explain": explain(query)} for query in queries
			]
	return plans


def main(argv=None):
	args = parse_args(argv)
	frappe.init()
	frappe.connect()
	result = {
		"cases": frappe.db.count(CASE),
		"open": frappe.db.count(CASE, {"status": "Open"}),
		"scopes": {},
	}
	for scope, email in SCOPES:
		frappe.set_user(email)
		unions = frappe.get_list("Union", pluck="name", limit_page_length=0)
		frappe.set_user("Administrator")
		result["scopes"][scope] = {
			"email": email,
			"unions": len(unions),
			"cases": frappe.db.count(CASE, {"originating_union": ("in", unions)}) if unions else 0,
			"open": frappe.db.count(CASE, {"originating_union": ("in", unions), "status": "Open"})
			if unions
			else 0,
		}
	result["plans"] = desk_plans()
	result["stock"] = stock_against_app(args.stock_repetitions, args.stock_warmup)
	result["stock_rounds"] = [args.stock_warmup, args.stock_repetitions]
	with open(args.out, "w") as out:
		json.dump(result, out, indent=1, default=str)
	frappe.destroy()
	return 0


if __name__ == "__main__":
	sys.exit(main())
