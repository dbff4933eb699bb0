"""The monthly rollup: the analytics table's cases counted per month and per group, kept exact by deltas.

Why: a default view (the last twelve months) over a federation reads every case of the window from the
analytics table, so it grows with the window's case count (~36k at 1M cases against ~10k at 10k). The
rollup `tabGrievance Analytics Monthly` holds, per month of `received_on` and per combination of the
key columns below, the number of cases and the sums in MEASURES; a query the rollup can answer reads
whole months from it and only the partial months at the window's edges (at most two, the current one
among them) from the analytics table, in one SQL statement (`queries.CaseQuery.aggregate`). The
finished grains are keyed by the month the case was finished in instead (FINISHED_SQL: resolved or
closed on its resolution date, rejected at its last change, as Outcomes and Remedies counts them; an
open case is in none of them); Outcomes and Remedies reads them itself.

Its `received_on` is the first day of the month and the other key columns carry the case table's names,
so it is read under the alias `tabGrievance` like the analytics table: the hierarchy's scope criterion
(confederation, federation, branch), the filters on its columns and the Month, Quarter and Year periods
apply unchanged. A scope, filter, dimension or measure outside its columns (a workplace union's official,
whose criterion is the originating union; the union filter; weeks; sector) reads the analytics table.

Exact at every moment, not eventually: every change of the analytics table writes its difference here
in the same transaction, as delta rows (`delta` = 1: -n for the old groups, +n for the new), never
updating a shared row, so concurrent case saves do not queue on a month's rows. A case saved without a
change of its key columns (or, for a rejected case, of its finish month) writes nothing. Reads add
every row up. The five-minute reconcile compacts the finished months that have delta rows (one GROUP BY
over the month's analytics rows); `rebuild()` after a bulk load and the patch
`v0_4.build_analytics_rollup` fill it from the analytics table, and `summary.after_migrate` refills it
when VERSION (its layout: grains, keys, measures) changed.
"""

from contextlib import contextmanager

import frappe
from frappe.utils import add_months, get_first_day, getdate, nowdate

TABLE = "tabGrievance Analytics Monthly"
VERSION = "4"
VERSION_KEY = "unioncase_analytics_rollup_version"
# Grains: each case is counted once in every grain, under the grain's columns (NULL in the others,
# which a query reading that grain never names). Narrow grains keep the rollup small: at the demo's
# ~3,000 cases a month, federation x category is ~80 rows a month, branch x category ~470 (measured).
# A query reads the first grain holding every column it names. All are analytics-table columns.
_FEDERATION = ("confederation", "federation")
_BRANCH = (*_FEDERATION, "branch")
_WHO = ("category", "reporter_gender", "reporter_type", "is_anonymous")
_FINISHED = ("category", "status", "outcome")
GRAINS = {
	"f_kind": (*_FEDERATION, "kind"),
	"f_status": (*_FEDERATION, "status"),
	"f_channel": (*_FEDERATION, "channel"),
	"f_category": (*_FEDERATION, "category"),
	"f_who": (*_FEDERATION, *_WHO),
	"b_kind": (*_BRANCH, "kind"),
	"b_status": (*_BRANCH, "status"),
	"b_channel": (*_BRANCH, "channel"),
	"b_category": (*_BRANCH, "category"),
	"b_who": (*_BRANCH, *_WHO),
	# Employers and Brands: cases, workers and open cases per employer; its workplaces are the distinct
	# workplace unions among an employer's groups (~0.2 rows a case a month at the demo's spread)
	"f_employer": (*_FEDERATION, "employer", "workplace_union", "status"),
	"b_employer": (*_BRANCH, "employer", "workplace_union", "status"),
	# keyed by the month the case was finished in (FINISHED_SQL), for Outcomes and Remedies
	"f_finished": (*_FEDERATION, *_FINISHED),
	"b_finished": (*_BRANCH, *_FINISHED),
}
# the month a grain's `received_on` holds: of receipt (the default) or of the finish
FINISHED_GRAINS = frozenset(("f_finished", "b_finished"))
# when a case was finished, as Outcomes and Remedies counts it: resolved or closed on its resolution
# date, rejected at its last change; NULL while open (such a case is in no finished grain)
FINISHED_SQL = (
	"(case when {t}.`status` in ('Resolved', 'Closed') then {t}.`resolved_on`"
	" when {t}.`status` = 'Rejected' then {t}.`modified` end)"
)
KEYS = tuple(dict.fromkeys(column for columns in GRAINS.values() for column in columns))
# measure -> (SQL type, aggregate over the analytics table, aggregate over the rollup's rows); every
# one is stored as 0 for a group without any figure: every reader takes coalesce(sum(...), 0) anyway
MEASURES = {
	"cases": ("bigint not null", "count(*)", "sum({t}.`cases`)"),
	"workers_affected": (
		"bigint not null default 0",
		"coalesce(sum({t}.`workers_affected`), 0)",
		"coalesce(sum({t}.`workers_affected`), 0)",
	),
	"workers_benefited": (
		"bigint not null default 0",
		"coalesce(sum({t}.`workers_benefited`), 0)",
		"coalesce(sum({t}.`workers_benefited`), 0)",
	),
	"back_pay_recovered": (
		"decimal(30,9) not null default 0",
		"coalesce(sum({t}.`back_pay_recovered`), 0)",
		"coalesce(sum({t}.`back_pay_recovered`), 0)",
	),
	"rated": (
		"bigint not null default 0",
		"coalesce(sum({t}.`satisfaction_rating` > 0), 0)",
		"coalesce(sum({t}.`rated`), 0)",
	),
	"rating_sum": (
		"decimal(30,9) not null default 0",
		"coalesce(sum(case when {t}.`satisfaction_rating` > 0 then {t}.`satisfaction_rating` end), 0)",
		"coalesce(sum({t}.`rating_sum`), 0)",
	),
}
ZERO = (0,) * len(MEASURES)
SCOPE_KEYS = ("confederation", "federation", "branch")
CHUNK = 20_000
MONTH_SQL = "cast(date_format({date}, '%%Y-%%m-01') as datetime)"


def date_sql(grain: str, t: str = "a") -> str:
	"""The date a grain is keyed by the month of, over the analytics table aliased `t`."""
	return FINISHED_SQL.format(t=t) if grain in FINISHED_GRAINS else f"{t}.`received_on`"


def month_sql(grain: str, t: str = "a") -> str:
	return MONTH_SQL.format(date=date_sql(grain, t))


def summary_table() -> str:
	from unioncase.reports import summary

	return summary.TABLE


def exists() -> bool:
	"""Whether the rollup is there and filled (asked once per request)."""
	flags = frappe.local.flags
	if flags.get("uc_analytics_rollup") is None:
		flags.uc_analytics_rollup = bool(frappe.db.sql("show tables like %s", TABLE)) and (
			frappe.db.get_global(VERSION_KEY) == VERSION
		)
	return flags.uc_analytics_rollup


def present() -> bool:
	"""The table is there (filled or being filled): changes must write their deltas."""
	flags = frappe.local.flags
	if flags.get("uc_analytics_rollup_table") is None:
		flags.uc_analytics_rollup_table = bool(frappe.db.sql("show tables like %s", TABLE))
	return flags.uc_analytics_rollup_table


def ensure_table() -> bool:
	"""Create the table (again, when its layout changed); True when it must be (re)filled."""
	if present() and frappe.db.get_global(VERSION_KEY) == VERSION:
		return False
	frappe.db.sql_ddl(f"drop table if exists `{TABLE}`")
	keys = ",\n".join(f"`{name}` {'tinyint' if name == 'is_anonymous' else 'varchar(140)'}" for name in KEYS)
	measures = ",\n".join(f"`{name}` {kind}" for name, (kind, _a, _b) in MEASURES.items())
	scopes = ",\n".join(f"key `{name}_received` (`grain`, `{name}`, `received_on`)" for name in SCOPE_KEYS)
	# no unique key: deltas are appended rows and readers sum them; clustered by grain and month
	frappe.db.sql_ddl(
		f"""create table `{TABLE}` (`id` bigint not null auto_increment,
		`grain` varchar(20) not null, `received_on` datetime(6) not null, {keys}, {measures},
		`delta` tinyint not null default 0,
		primary key (`grain`, `received_on`, `id`), key `id` (`id`), key `delta` (`delta`, `received_on`),
		{scopes})
		engine=InnoDB row_format=dynamic character set=utf8mb4 collate=utf8mb4_unicode_ci"""
	)
	frappe.db.set_global(VERSION_KEY, f"{VERSION}:filling")
	frappe.local.flags.uc_analytics_rollup = False
	frappe.local.flags.uc_analytics_rollup_table = True
	return True


def _columns() -> str:
	return ", ".join(f"`{name}`" for name in ("grain", "received_on", *KEYS, *MEASURES, "delta"))


def _grouped(where, sign: int = 1, delta: int = 0, join: str = "") -> str:
	"""INSERT ... SELECT of the analytics rows matching `where` (a condition, or grain -> condition),
	per grain grouped by month and the grain's columns, times `sign` (one statement: every grain's
	rows, UNION ALL)."""
	measures = ", ".join(f"{sign} * {sql.format(t='a')}" for _kind, sql, _read in MEASURES.values())
	parts = []
	for grain, columns in GRAINS.items():
		month = month_sql(grain)
		keys = ", ".join(f"a.`{name}`" if name in columns else "null" for name in KEYS)
		group = ", ".join([month, *(f"a.`{name}`" for name in columns)])
		condition = where(grain) if callable(where) else where
		if grain in FINISHED_GRAINS:
			condition = f"({condition}) and {date_sql(grain)} is not null"
		parts.append(
			f"""select '{grain}', {month}, {keys}, {measures}, {delta}
			from `{summary_table()}` a {join} where {condition} group by {group}"""
		)
	return f"insert into `{TABLE}` ({_columns()}) " + " union all ".join(parts)


def rebuild():
	"""Fill the rollup from the whole analytics table (after a bulk load, the patch, a subtree move)."""
	ensure_table()
	frappe.db.sql(f"delete from `{TABLE}`")
	frappe.db.sql(_grouped("1=1"), {"all": 1})  # a dict: the month format's %% are then unescaped
	frappe.db.set_global(VERSION_KEY, VERSION)
	frappe.local.flags.uc_analytics_rollup = True


def contributions(names) -> dict:
	"""(grain, month, keys...) -> the measures (MEASURES' order) of these cases' analytics rows, as
	they are now."""
	if not names or not present():
		return {}
	names = list(names)
	out = {}
	for row in (
		row for start in range(0, len(names), CHUNK) for row in _contributions(names[start : start + CHUNK])
	):
		received, finished = row[0], row[1]
		values = dict(zip(KEYS, row[2 : 2 + len(KEYS)], strict=True))
		measures = row[2 + len(KEYS) :]
		for grain, columns in GRAINS.items():
			month_ = finished if grain in FINISHED_GRAINS else received
			if month_ is None:
				continue  # not finished: in no finished grain
			key = (grain, month_, *(values[name] if name in columns else None for name in KEYS))
			out[key] = tuple(a + b for a, b in zip(out.get(key, ZERO), measures, strict=True))
	return out


def _contributions(names) -> tuple:
	# a locking read: the rows as last committed (another request may have changed them since this
	# transaction's snapshot), which are the rows the caller then deletes or rewrites
	keys = ", ".join(f"a.`{name}`" for name in KEYS)
	received = MONTH_SQL.format(date="a.`received_on`")
	finished = MONTH_SQL.format(date=FINISHED_SQL.format(t="a"))
	measures = ", ".join(sql.format(t="a") for _kind, sql, _read in MEASURES.values())
	return frappe.db.sql(
		f"""select {received}, {finished}, {keys}, {measures}
		from `{summary_table()}` a where a.name in %(names)s group by {received}, {finished}, {keys}
		for update""",
		{"names": tuple(names)},
	)


def write_difference(before: dict, after: dict):
	"""Append delta rows: each group's change from `before` to `after` (nothing when they are equal)."""
	rows = []
	for key in set(before) | set(after):
		old, new = before.get(key, ZERO), after.get(key, ZERO)
		if old != new:
			rows.append((*key, *(b - a for a, b in zip(old, new, strict=True)), 1))
	if not rows:
		return
	width = len(rows[0])
	frappe.db.sql(
		f"insert into `{TABLE}` ({_columns()}) values "
		+ ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(rows)),
		[value for row in rows for value in row],
	)


def compact(commit: bool = True):
	"""Merge the delta rows of finished months (the current month's wait until it ends: it is read
	from the analytics table by every default view anyway)."""
	if not exists():
		return
	this_month = get_first_day(nowdate())
	months = frappe.db.sql_list(
		f"select distinct received_on from `{TABLE}` where delta = 1 and received_on < %s", this_month
	)
	for month in months:
		start = getdate(month)
		end = add_months(start, 1)
		received = "a.received_on >= %(start)s and a.received_on < %(end)s"
		finished = (
			"((a.status in ('Resolved', 'Closed') and a.resolved_on >= %(start)s and a.resolved_on < %(end)s)"
			" or (a.status = 'Rejected' and a.modified >= %(start)s and a.modified < %(end)s))"
		)
		values = {"start": start, "end": end, "grains": tuple(GRAINS)}
		# the month's analytics rows first (locking read), then its rollup rows: the hooks' order
		frappe.db.sql(
			f"select count(*) from `{summary_table()}` a where ({received}) or {finished} lock in share mode",
			values,
		)
		frappe.db.sql(f"delete from `{TABLE}` where grain in %(grains)s and received_on = %(start)s", values)
		frappe.db.sql(_grouped(lambda grain: finished if grain in FINISHED_GRAINS else received), values)
		if commit:
			frappe.db.commit()


def grain_for(columns: set, finished: bool = False) -> str | None:
	"""The first (narrowest) grain holding every one of these analytics-table columns, keyed by the
	month of receipt, or with `finished` by the month of the finish."""
	for grain, held in GRAINS.items():
		if (grain in FINISHED_GRAINS) == finished and columns <= set(held):
			return grain
	return None


def window(params: dict) -> tuple | None:
	"""The whole months [first, end) inside a query's date range, or None when there is none."""
	start = params.get("from_date")
	end = params.get("to_date")  # exclusive (queries.py adds a day)
	first = getdate(start) if start else getdate("2000-01-01")
	if first.day != 1:
		first = add_months(get_first_day(first), 1)
	last = get_first_day(getdate(end)) if end else get_first_day(nowdate())
	if last <= first:
		return None
	return first, last


@contextmanager
def moving(where: str, params: dict):
	"""Around a bulk UPDATE of the analytics rows matching `where` (a subtree move): their groups
	leave the rollup before and come back after, followed by name (a moved row may stop matching)."""
	if not present():
		yield
		return
	names = frappe.db.sql_list(f"select a.name from `{summary_table()}` a where {where}", params)
	before = contributions(names)
	yield
	write_difference(before, contributions(names))
