"""Bring one benchmark site to a case load, or keep it when its stamp says it already holds it.

Run inside a site (benchmarks/run enters it): `load.py --cases N [--members ...]`. The stamp is a hash
of the generator, its data tables and the generator's arguments; a site whose stamp matches keeps its cases (a 1M
load is generated once), any other is emptied and generated again. Then it makes sure of:
- the benchmark's own official of an empty workplace union;
- "Bench Stock Case", the stock-Frappe copy of the case list's columns: a DocType whose union link
  honours User Permissions (Grievance's links ignore them: the app scopes cases with its own hooks),
  with the same rows, so `frappe.get_list` builds Frappe's own User Permission condition on it.
"""

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import frappe

from unioncase.demo import generator
from unioncase.reports import summary as analytics

STAMP_KEY = "unioncase_bench_stamp"
STOCK = "Bench Stock Case"
# The copy's columns: what the list and its counts read, with the same names as on Grievance.
STOCK_FIELDS = (
	("subject", "Data", None),
	("status", "Select", "Open\nResolved\nClosed\nRejected"),
	("workflow_state", "Data", None),
	("severity", "Select", "Low\nMedium\nHigh\nCritical"),
	("category", "Data", None),
	("owning_union", "Link", "Union"),
)
STOCK_ROLES = (
	"Confederation Official",
	"Federation Official",
	"Branch Official",
	"Workplace Union Official",
)
EMPTY_UNION_EMAIL = f"bench.empty@{generator.DEMO_DOMAIN}"
EMPTY_EMPLOYER = "PT Bench Tanpa Kasus"
CASE_TABLES = ("Grievance Tag Link", *(doctype for doctype, _fields in generator.CASE_TABLES), "Grievance")


def parse_args(argv=None):
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--cases", type=int, required=True)
	parser.add_argument("--members", type=int, default=5_000)
	parser.add_argument("--workplace-unions", type=int, default=300)
	parser.add_argument("--seed", type=int, default=42)
	return parser.parse_known_args(argv)[0]


def stamp_of(args) -> str:
	digest = hashlib.sha256()
	for path in (generator.__file__, Path(generator.__file__).with_name("demo_data.json")):
		digest.update(Path(path).read_bytes())
	digest.update(json.dumps(vars(args), sort_keys=True).encode())
	return digest.hexdigest()[:16]


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
	return {"email": EMPTY_UNION_EMAIL, "union": union}


def ensure_stock_doctype():
	if frappe.db.exists("DocType", STOCK):
		return
	frappe.get_doc(
		{
			"doctype": "DocType",
			"name": STOCK,
			"module": "UnionCase",
			"custom": 1,
			"autoname": "Prompt",
			"fields": [
				{
					"fieldname": name,
					"label": name.replace("_", " ").title(),
					"fieldtype": kind,
					"options": options,
				}
				for name, kind, options in STOCK_FIELDS
			],
			"permissions": [
				{"role": role, "read": 1, "report": 1} for role in ("System Manager", *STOCK_ROLES)
			],
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()


def fill_stock_copy():
	"""The copy holds the same cases; the index the app gives the same columns (owning_union, status,
	modified) is there too, so the comparison is Frappe's condition, not a missing index."""
	columns = (
		"name",
		"creation",
		"modified",
		"modified_by",
		"owner",
		"docstatus",
		"idx",
		*tuple(name for name, _kind, _options in STOCK_FIELDS),
	)
	names = ", ".join(f"`{column}`" for column in columns)
	frappe.db.sql(f"truncate `tab{STOCK}`")
	frappe.db.sql(f"insert into `tab{STOCK}` ({names}) select {names} from `tabGrievance`")
	frappe.db.commit()
	frappe.db.add_index(STOCK, ["owning_union", "status", "modified"], "owning_union_status_modified")
	frappe.db.sql(f"analyze table `tab{STOCK}`")


def main(argv=None):
	args = parse_args(argv)
	frappe.init()
	frappe.connect()
	frappe.set_user("Administrator")
	stamp = stamp_of(args)
	kept = frappe.db.get_global(STAMP_KEY) == stamp and frappe.db.count("Grievance") == args.cases
	started = time.perf_counter()
	if kept:
		print(f"Keeping the {args.cases:,} cases of this site (stamp {stamp})", flush=True)
		summary = {"plan": generator.build_plan(args.seed, args.workplace_unions, args.members)}
	else:
		print(f"Generating {args.cases:,} cases (stamp {stamp})", flush=True)
		frappe.db.set_global(STAMP_KEY, "")
		for doctype in CASE_TABLES:
			frappe.db.truncate(doctype)
		frappe.db.commit()
		summary = generator.make_demo(
			cases=args.cases,
			members=args.members,
			workplace_unions=args.workplace_unions,
			seed=args.seed,
			quiet=True,
		)
	ensure_empty_scope(summary["plan"])
	ensure_stock_doctype()
	if not kept or frappe.db.count(STOCK) != args.cases:
		fill_stock_copy()
	# the analytics table (unioncase/reports/summary.py): the generator's bulk inserts bypass the case
	# hooks, so it is rebuilt after a load, or when a kept site predates it or its layout
	if (
		analytics.ensure_table()
		or frappe.db.sql(f"select count(*) from `{analytics.TABLE}`")[0][0] != args.cases
	):
		print("Building the analytics table", flush=True)
		analytics.rebuild(progress=True)
	frappe.db.set_global(STAMP_KEY, stamp)
	frappe.db.commit()
	print(f"Site ready in {time.perf_counter() - started:.1f} s", flush=True)
	frappe.destroy()
	return 0


if __name__ == "__main__":
	sys.exit(main())
