"""The comparable export: an aggregate table for partners, no personal data, small counts protected.

period x category (top level) x sector x province x union level, the number of cases in each cell and
each margin, computed in SQL, shaped with pandas and protected by `unioncase.reports.suppression`.
The requester's scope is a union subtree inside their own part of the tree (cases placed by the union
they came from); the table is generated in a background job that reports its progress in the Desk,
written as private CSV and XLSX files (the XLSX with a data dictionary sheet) attached to a
Comparable Export record, which is the log of who generated what, when, over which scope.
"""

import csv
import io

import frappe
from frappe import _
from frappe.utils import add_days, getdate, now_datetime, nowdate

from unioncase.hierarchy.scope import UNION, allowed_unions
from unioncase.reports.common import period_labels
from unioncase.reports.queries import CaseQuery, apply_category_rollup, as_date, default_from_date, fill_blank
from unioncase.reports.replica import on_replica
from unioncase.reports.suppression import ALL, DIMENSIONS, protect_block

EXPORT = "Comparable Export"
SETTINGS = "Comparable Export Settings"
SITE = "*"  # the scope of the whole tree
COLUMNS = ("period", "category", "sector", "province", "union_level", "cases", "suppressed")
DICTIONARY = (
	("period", "Text", "The period the cases were received in: a whole month (2026-01), quarter (2026-Q1) or year."),
	("category", "Text", "The top-level grievance category; a case under a subcategory counts for its top-level category. All: every category."),
	("sector", "Text", "The sector of the union the case came from. All: every sector."),
	("province", "Text", "The province of the union the case came from. All: every province."),
	("union_level", "Text", "The level of the union handling the case (Workplace Union, Branch, Federation, Confederation). All: every level."),
	("cases", "Integer", "The number of cases. Empty when suppressed."),
	("suppressed", "Yes/empty", "Yes when the count is withheld: it is below the threshold, or it would reveal such a count through a total or a comparison with another export."),
)  # fmt: skip


@frappe.whitelist(methods=["POST"])
def start_export(union: str | None = None, from_date: str | None = None, to_date: str | None = None) -> str:
	"""Queue a comparable export of `union`'s subtree (default: the requester's own); return its record."""
	user = frappe.session.user
	if not frappe.has_permission("Grievance", "read", user=user):
		frappe.throw(_("Not permitted to read cases."), frappe.PermissionError)
	union = resolve_scope(user, union)
	start = as_date("from_date", from_date) if from_date else default_from_date()
	end = as_date("to_date", to_date) if to_date else getdate(nowdate())
	if start > end:
		frappe.throw(
			_("{0} must not be after {1}.").format(_("From Date"), _("To Date")), title=_("Invalid filter")
		)
	settings = frappe.get_cached_doc(SETTINGS)
	period = settings.period or "Quarter"
	start, end = align(period, start, end)
	doc = frappe.get_doc(
		{
			"doctype": EXPORT,
			"status": "Queued",
			"union": union,
			"from_date": start,
			"to_date": end,
			"period": period,
			"minimum_cell_count": settings.minimum_cell_count or 5,
			"requested_by": user,
		}
	).insert(ignore_permissions=True)
	frappe.enqueue(
		"unioncase.reports.export.run_export",
		queue="long",
		timeout=3600,
		export=doc.name,
		enqueue_after_commit=True,
	)
	return doc.name


def align(period: str, start, end):
	"""Whole periods only: two exports then share whole blocks, never a part of one."""
	from frappe.utils import (
		get_first_day,
		get_last_day,
		get_quarter_ending,
		get_quarter_start,
		get_year_ending,
		get_year_start,
	)

	if period == "Month":
		return get_first_day(start), get_last_day(end)
	if period == "Year":
		return get_year_start(start), get_year_ending(end)
	return get_quarter_start(start), get_quarter_ending(end)


def resolve_scope(user: str, union: str | None) -> str | None:
	allowed = allowed_unions(user, "Grievance")
	if union:
		if not frappe.db.exists(UNION, union):
			frappe.throw(
				_("{0}: {1} is not a valid value.").format(_("Union"), union), title=_("Invalid filter")
			)
		if allowed is not None and union not in allowed:
			frappe.throw(
				_("{0} is outside your part of the union tree.").format(union), frappe.PermissionError
			)
		return union
	if allowed is None:
		return None
	# one query for every allowed union's parent (a federation's official has ~180 of them)
	parents = dict(
		frappe.db.sql(
			f"select name, parent_union from `tab{UNION}` where name in %s", (tuple(allowed) or ("",),)
		)
	)
	tops = [name for name in allowed if parents.get(name) not in allowed]
	if len(tops) != 1:
		frappe.throw(_("Choose the union whose cases the export covers."), title=_("Union missing"))
	return tops[0]


def run_export(export: str):
	"""The background job: build the table, write the files, log the outcome on the record."""
	doc = frappe.get_doc(EXPORT, export)
	doc.db_set({"status": "Running", "started_on": now_datetime()})
	frappe.db.commit()
	try:
		# the figures are read on the read replica when the site has one; the files and this log go to the primary
		rows = on_replica(build_table)(doc, progress=lambda percent, text: progress(doc.name, percent, text))
		attach_files(doc, rows)
		published = sum(1 for row in rows if row["suppressed"] != "Yes")
		doc.db_set(
			{
				"status": "Completed",
				"finished_on": now_datetime(),
				"entries_published": published,
				"entries_suppressed": len(rows) - published,
			}
		)
		progress(doc.name, 100, _("Export ready"))
	except Exception:
		frappe.db.rollback()
		doc.db_set(
			{
				"status": "Failed",
				"finished_on": now_datetime(),
				"error": _("The export failed; see the Error Log."),
			}
		)
		frappe.log_error(
			title=_("Comparable export {0} failed").format(export),
			reference_doctype=EXPORT,
			reference_name=export,
		)
	frappe.db.commit()


def progress(name: str, percent: float, text: str):
	frappe.publish_progress(
		percent, title=_("Comparable Export"), doctype=EXPORT, docname=name, description=text
	)


def scope_chains() -> dict[str, list[str]]:
	"""Each union's scopes: itself and every union above it (the subtrees it belongs to)."""
	parents = dict(frappe.db.sql(f"select name, parent_union from `tab{UNION}`"))
	chains = {}
	for union in parents:
		chain, node, seen = [], union, set()
		while node and node not in seen:
			seen.add(node)
			chain.append(node)
			node = parents.get(node)
		chains[union] = chain
	return chains


def scope_blocks(doc, progress=None):
	"""Per scope and period, the cells (key, count) of every scope the export's scope nests with."""
	filters = {"from_date": doc.from_date, "to_date": doc.to_date}
	# every case of the period, to know each nested scope's figures; only the suppression uses them
	atoms = CaseQuery(filters, user="Administrator").aggregate(
		["category", "sector", "province", "level", "originating_union"], ["cases"], period=doc.period
	)
	atoms = fill_blank(apply_category_rollup(atoms), ["category", "sector", "province", "level"])
	chains = scope_chains()
	own = doc.union or SITE
	blocks = {}
	for row in atoms.itertuples(index=False):
		key = (row.category, row.sector, row.province, row.level)
		for scope in [*chains.get(row.originating_union, []), SITE]:
			blocks.setdefault(scope, {}).setdefault(row.period, {}).setdefault(key, 0)
			blocks[scope][row.period][key] += int(row.cases)
	if own == SITE:
		nested = [scope for scope in blocks if scope != SITE]
	else:
		above = set(chains.get(own, [])) | {SITE}
		nested = [
			scope for scope in blocks if scope != own and (scope in above or own in chains.get(scope, []))
		]
	return blocks.get(own, {}), [blocks[scope] for scope in nested]


def build_table(doc, progress=None) -> list[dict]:
	own, nested = scope_blocks(doc)
	threshold = int(doc.minimum_cell_count)
	periods = period_labels(doc.period, doc.from_date, doc.to_date)
	rows = []
	for done, period in enumerate(periods, start=1):
		cells = list(own.get(period, {}).items())
		others = [list(scope.get(period, {}).items()) for scope in nested]
		for entry in protect_block(cells, threshold, others):
			values = ["All" if part == ALL else part for part in entry["key"]]
			rows.append(
				{
					"period": period,
					**dict(zip(("category", "sector", "province", "union_level"), values, strict=True)),
					"cases": entry["value"],
					"suppressed": "Yes" if entry["suppressed"] else "",
				}
			)
		if progress:
			progress(round(90.0 * done / len(periods)), _("Period {0} of {1}").format(done, len(periods)))
	return rows


def csv_bytes(rows: list[dict]) -> bytes:
	out = io.StringIO()
	writer = csv.DictWriter(out, fieldnames=COLUMNS)
	writer.writeheader()
	for row in rows:
		writer.writerow({**row, "cases": "" if row["cases"] is None else row["cases"]})
	return out.getvalue().encode("utf-8")


def xlsx_bytes(doc, rows: list[dict]) -> bytes:
	from openpyxl import Workbook

	book = Workbook()
	data = book.active
	data.title = "Data"
	data.append(list(COLUMNS))
	for row in rows:
		data.append([row[column] for column in COLUMNS])
	dictionary = book.create_sheet("Data Dictionary")
	dictionary.append(["column", "type", "meaning"])
	for column, kind, meaning in DICTIONARY:
		dictionary.append([column, kind, meaning])
	dictionary.append([])
	dictionary.append(["scope", "", doc.union or "All unions"])
	dictionary.append(["received from", "", str(doc.from_date)])
	dictionary.append(["received to", "", str(doc.to_date)])
	dictionary.append(["counts suppressed below", "", doc.minimum_cell_count])
	dictionary.append(["generated on", "", str(now_datetime())])
	out = io.BytesIO()
	book.save(out)
	return out.getvalue()


def attach_files(doc, rows: list[dict]):
	stem = f"comparable-export-{doc.name}"
	urls = {}
	for fieldname, extension, content in (
		("csv_file", "csv", csv_bytes(rows)),
		("xlsx_file", "xlsx", xlsx_bytes(doc, rows)),
	):
		file = frappe.get_doc(
			{
				"doctype": "File",
				"file_name": f"{stem}.{extension}",
				"attached_to_doctype": EXPORT,
				"attached_to_name": doc.name,
				"attached_to_field": fieldname,
				"is_private": 1,
				"content": content,
			}
		).insert(ignore_permissions=True)
		urls[fieldname] = file.file_url
	doc.db_set(urls)
