"""The analytics table: every case's non-identifying figures in one narrow row, kept current by the app.

`tabGrievance Analytics` holds, for each case, only what the reports group, filter and add up (the
case list's scope columns, the dimensions of `queries.DIMENSIONS`, the sums) and what the resolution
report would otherwise compute per case at every view: the working time to the first response and to
resolution (seconds, on the owning union's calendar, paused time left out) and whether it was resolved
by its deadline. Its columns carry the case table's names, so the reports read it under the alias
`tabGrievance` and the hierarchy's scope criterion (hierarchy/scope.py), the filters and the
dimensions apply to it unchanged. Indexes lead with each scope column and `received_on`, so a scoped
window reads the scope's rows of the window only, and whole history reads rows a few times narrower
than the case table's.

Why one row a case and not a coarser grain: at the demo's ~100 cases a day over 300 workplace unions, a
key of day x union x category x kind x ... is unique for almost every case (measured: 0.96 rows per case
at 1M), so a day-level summary would hold as many rows and lose the per-case durations the exact
percentiles need. The percentiles are computed in SQL (window functions over the rows of the scope),
so Python receives four rows per group whatever the history's size.

Kept current:
- in the same transaction, by the Grievance hooks (insert, update, delete, rename: `on_case_change`,
  `on_case_delete`, `on_case_rename`), by renames of a union, category, employer or stage
  (`on_link_rename`), by ancestry moves (hierarchy/ancestry.py runs its updates on both tables) and by
  owning-level changes (workflows/stages.py);
- within five minutes, by `reconcile` (scheduler): cases whose `modified` moved since its last run
  (direct database writes that bypass the hooks but touch `modified`), then the rollup's compaction
  (reports/rollup.py); daily, `prune`: rows of cases deleted without the hooks (its anti-join over
  every case costs ~30 s at 1M, too much for every five minutes);
- within minutes, by a job, after a holiday calendar, a union's calendar or the default calendar
  changes (`on_calendar_change`: the stored working times are recomputed);
- bulk loads (the demo generator, the benchmark loader) call `rebuild()`; the patch
  `v0_3.build_analytics_table` builds it on an existing site.
Category moves in the tree need nothing: rows keep the category's name and the reports roll
categories up by the tree at query time; sectors and provinces are read from the union at query time.
"""

import time

import frappe
from frappe.utils import cint

from unioncase.reports import rollup

TABLE = "tabGrievance Analytics"
VERSION = "2"
VERSION_KEY = "unioncase_analytics_table_version"
WATERMARK_KEY = "unioncase_analytics_reconciled_until"
CHUNK = 20_000

# column -> (SQL type, expression over `tabGrievance`)
COLUMNS = {
	"name": ("varchar(140) not null", "g.`name`"),
	# required on every case; a row written past validation without one is placed at its creation
	"received_on": ("datetime(6) not null", "coalesce(g.`received_on`, g.`creation`)"),
	"resolved_on": ("datetime(6)", "g.`resolved_on`"),
	"modified": ("datetime(6)", "g.`modified`"),
	"kind": ("varchar(140)", "g.`kind`"),
	"status": ("varchar(140)", "g.`status`"),
	"workflow_state": ("varchar(140)", "g.`workflow_state`"),
	"severity": ("varchar(140)", "g.`severity`"),
	"channel": ("varchar(140)", "g.`channel`"),
	"owning_level": ("varchar(140)", "g.`owning_level`"),
	"owning_union": ("varchar(140)", "g.`owning_union`"),
	"originating_union": ("varchar(140)", "g.`originating_union`"),
	"workplace_union": ("varchar(140)", "g.`workplace_union`"),
	"branch": ("varchar(140)", "g.`branch`"),
	"federation": ("varchar(140)", "g.`federation`"),
	"confederation": ("varchar(140)", "g.`confederation`"),
	"employer": ("varchar(140)", "g.`employer`"),
	"category": ("varchar(140)", "g.`category`"),
	"outcome": ("varchar(140)", "g.`outcome`"),
	"reporter_gender": ("varchar(140)", "g.`reporter_gender`"),
	"reporter_type": ("varchar(140)", "g.`reporter_type`"),
	"is_anonymous": ("tinyint not null default 0", "coalesce(g.`is_anonymous`, 0)"),
	"workers_affected": ("int", "g.`workers_affected`"),
	"workers_benefited": ("int", "g.`workers_benefited`"),
	"back_pay_recovered": ("decimal(21,9)", "g.`back_pay_recovered`"),
	"satisfaction_rating": ("decimal(21,9)", "g.`satisfaction_rating`"),
	"escalated": (
		"tinyint not null default 0",
		"exists (select 1 from `tabGrievance Escalation` uc_hop where uc_hop.parent = g.`name`"
		" and uc_hop.parenttype = 'Grievance' and uc_hop.direction = 'Escalated')",
	),
	"within_target": (
		"tinyint not null default 0",
		"coalesce(g.`resolved_on` <= cast(date(g.`resolution_due_on`) as datetime), 0)",
	),
	# working seconds, computed in Python (the owning union's calendar): see `fill_durations`
	"response_seconds": ("double", "null"),
	"resolution_seconds": ("double", "null"),
}
# the union columns a rename of a Union rewrites, and the other links
LINK_COLUMNS = {
	"Union": (
		"owning_union",
		"originating_union",
		"workplace_union",
		"branch",
		"federation",
		"confederation",
	),
	"Grievance Category": ("category",),
	"Employer": ("employer",),
	"Workflow State": ("workflow_state",),
}
SCOPE_COLUMNS = ("originating_union", "owning_union", "branch", "federation", "confederation")
INDEXES = {
	**{f"{column}_received": (column, "received_on") for column in SCOPE_COLUMNS},
	**{f"{column}_resolved": (column, "resolved_on") for column in ("originating_union", "federation")},
	"resolved": ("resolved_on",),
	"status_received": ("status", "received_on"),
	# Outcomes' rejected arm (status, modified): with `resolved` the OR is an index merge, not a scan
	"status_modified": ("status", "modified"),
	# the same arm for a workplace union's official, read alone (outcomes_and_remedies.per_case): without
	# it the arm read every case the union ever had
	"originating_union_status_modified": ("originating_union", "status", "modified"),
}


def exists() -> bool:
	"""Whether the table is there (a site before the patch has none); asked once per request."""
	flags = frappe.local.flags
	if flags.get("uc_analytics_table") is None:
		flags.uc_analytics_table = bool(frappe.db.sql("show tables like %s", TABLE))
	return flags.uc_analytics_table


def ensure_table() -> bool:
	"""Create the table (again, when its layout changed); True when it must be (re)filled."""
	if exists() and frappe.db.get_global(VERSION_KEY) == VERSION:
		ensure_indexes()
		return False
	frappe.db.sql_ddl(f"drop table if exists `{TABLE}`")
	columns = ",\n".join(f"`{name}` {kind}" for name, (kind, _sql) in COLUMNS.items())
	keys = ",\n".join(
		f"key `{index}` ({', '.join(f'`{c}`' for c in columns_)})" for index, columns_ in INDEXES.items()
	)
	# clustered by arrival: a window of dates is one contiguous range of the table, whatever the scope
	frappe.db.sql_ddl(
		f"""create table `{TABLE}` ({columns},
		primary key (`received_on`, `name`), unique key `case_name` (`name`), {keys})
		engine=InnoDB row_format=dynamic character set=utf8mb4 collate=utf8mb4_unicode_ci"""
	)
	# complete only once rebuild() has filled it: a rebuild that fails is started again next time
	frappe.db.set_global(VERSION_KEY, f"{VERSION}:filling")
	frappe.local.flags.uc_analytics_table = True
	return True


def ensure_indexes():
	"""Indexes added to INDEXES since the table was made (an index is not a change of layout)."""
	present = {row[2] for row in frappe.db.sql(f"show index from `{TABLE}`")}
	for index, columns in INDEXES.items():
		if index not in present:
			names = ", ".join(f"`{column}`" for column in columns)
			frappe.db.sql_ddl(f"alter table `{TABLE}` add index `{index}` ({names})")


def _select(where: str) -> str:
	names = ", ".join(f"`{name}`" for name in COLUMNS)
	values = ", ".join(sql for _kind, sql in COLUMNS.values())
	return f"insert into `{TABLE}` ({names}) select {values} from `tabGrievance` g where {where}"


def rebuild(progress: bool = False):
	"""Fill the table from every case (after a bulk load, a restore, or the patch): the columns in one
	INSERT ... SELECT inside MariaDB, then the working times in chunks."""
	ensure_table()
	started = time.perf_counter()
	frappe.db.sql_ddl(f"truncate `{TABLE}`")
	frappe.db.sql(_select("1=1"))
	frappe.db.commit()
	total = frappe.db.sql(f"select count(*) from `{TABLE}`")[0][0]
	fill_every_duration((lambda done: _progress(done, total, started)) if progress else None)
	frappe.db.set_global(WATERMARK_KEY, str(frappe.db.sql("select now(6)")[0][0]))
	frappe.db.set_global(VERSION_KEY, VERSION)
	rollup.rebuild()
	frappe.db.sql(f"analyze table `{TABLE}`")
	frappe.db.commit()
	if progress:
		print(flush=True)


def fill_every_duration(on_chunk=None):
	"""The working times of every row, in chunks by name, each committed; `on_chunk(done)` after each."""
	done, last, calendars = 0, "", {}
	while True:
		names = frappe.db.sql_list(
			f"select name from `{TABLE}` where name > %s order by name limit %s", (last, CHUNK)
		)
		if not names:
			break
		fill_durations(names, calendars)
		frappe.db.commit()
		done, last = done + len(names), names[-1]
		if on_chunk:
			on_chunk(done)


def _progress(done: int, total: int, started: float):
	elapsed = time.perf_counter() - started
	print(f"\rAnalytics table: {done:,} / {total:,} cases ({elapsed:.0f} s)", end="", flush=True)


def refresh_cases(names):
	"""Rewrite the rows of these cases from the case table (a deleted case's row goes)."""
	names = tuple(sorted({name for name in names if name}))
	if not names or not exists():
		return
	before = rollup.contributions(names)
	frappe.db.sql(f"delete from `{TABLE}` where name in %(names)s", {"names": names})
	frappe.db.sql(_select("g.name in %(names)s"), {"names": names})
	fill_durations(names)
	rollup.write_difference(before, rollup.contributions(names))


def fill_durations(names, calendars: dict | None = None):
	"""Working time to the first response and to resolution, as the resolution report defines them."""
	import numpy as np
	import pandas as pd

	from unioncase.reports.resolution_performance import busday_args, working_seconds
	from unioncase.workflows.deadlines import calendar_name_for

	rows = frappe.db.sql(
		f"""select g.name, g.owning_union, g.received_on, g.responded_on, g.resolved_on,
			coalesce(g.paused_seconds, 0), a.received_on
		from `tabGrievance` g join `{TABLE}` a on a.name = g.name
		where g.name in %(names)s and g.received_on is not null
		and (g.responded_on is not null or g.resolved_on is not null)""",
		{"names": tuple(names)},
	)
	if not rows:
		return
	frame = pd.DataFrame(
		[tuple(row) for row in rows],
		columns=["name", "owning_union", "received_on", "responded_on", "resolved_on", "paused", "key"],
	)
	for column in ("received_on", "responded_on", "resolved_on"):
		frame[column] = pd.to_datetime(frame[column])
	frame["response"] = np.nan
	frame["resolution"] = np.nan
	known = {} if calendars is None else calendars  # union -> its calendar, across chunks of a rebuild
	by_calendar = {}
	for union in frame["owning_union"].dropna().unique():
		if union not in known:
			known[union] = calendar_name_for(union)
		by_calendar.setdefault(known[union], []).append(union)
	unowned = frame["owning_union"].isna()
	if unowned.any():
		by_calendar.setdefault(calendar_name_for(None), []).append(None)
	for calendar_name, unions in by_calendar.items():
		rows = frame["owning_union"].isin([u for u in unions if u]) | (unowned if None in unions else False)
		spec = busday_args(calendar_name)
		part = frame.loc[rows]
		frame.loc[rows, "response"] = working_seconds(
			part["received_on"].values, part["responded_on"].values, spec
		)
		resolution = working_seconds(part["received_on"].values, part["resolved_on"].values, spec)
		frame.loc[rows, "resolution"] = np.maximum(resolution - part["paused"].astype(float).values, 0.0)
	values = [
		(key, name, None if np.isnan(response) else float(response), None if np.isnan(res) else float(res))
		for key, name, response, res in zip(
			frame["key"], frame["name"], frame["response"], frame["resolution"], strict=True
		)
	]
	for start in range(0, len(values), 2000):
		part = values[start : start + 2000]
		# each row exists (its primary key read above): the duplicate key updates it in place
		frappe.db.sql(
			f"""insert into `{TABLE}` (received_on, name, response_seconds, resolution_seconds)
			values {", ".join(["(%s, %s, %s, %s)"] * len(part))}
			on duplicate key update response_seconds = values(response_seconds),
			resolution_seconds = values(resolution_seconds)""",
			[value for row in part for value in row],
		)


# --- hooks -----------------------------------------------------------------------------------------


def on_case_change(doc, method=None):
	refresh_cases([doc.name])


def on_case_delete(doc, method=None):
	if exists():
		before = rollup.contributions([doc.name])
		frappe.db.sql(f"delete from `{TABLE}` where name = %s", doc.name)
		rollup.write_difference(before, {})


def on_case_rename(doc, method=None, old=None, new=None, merge=False):
	refresh_cases([old, new])


def on_link_rename(doc, method=None, old=None, new=None, merge=False):
	"""A renamed union, category, employer or stage: Frappe rewrites the case table's links; so here."""
	if not exists():
		return
	for column in LINK_COLUMNS.get(doc.doctype, ()):
		frappe.db.sql(f"update `{TABLE}` set `{column}` = %s where `{column}` = %s", (new, old))
		if column in rollup.KEYS and rollup.present():
			# the rollup sums its rows: renamed rows that now share a key need no merging
			frappe.db.sql(f"update `{rollup.TABLE}` set `{column}` = %s where `{column}` = %s", (new, old))


def on_calendar_change(doc, method=None):
	if doc.doctype == "Union" and not doc.has_value_changed("holiday_calendar"):
		return
	frappe.enqueue(
		"unioncase.reports.summary.refresh_durations",
		queue="long",
		job_id="unioncase-analytics-durations",
		deduplicate=True,
		enqueue_after_commit=True,
	)


def refresh_durations():
	"""Recompute every stored working time (a calendar changed)."""
	if not exists():
		return
	fill_every_duration()


def reconcile(commit: bool = True):
	"""Scheduler: rows of cases changed since the last run without the hooks."""
	if not exists():
		return
	until = str(frappe.db.sql("select now(6)")[0][0])
	since = frappe.db.get_global(WATERMARK_KEY) or "2000-01-01"
	while True:
		names = frappe.db.sql_list(
			"""select g.name from `tabGrievance` g left join `tabGrievance Analytics` a on a.name = g.name
			where g.modified >= %s and (a.name is null or a.modified <> g.modified) limit %s""",
			(since, CHUNK),
		)
		if not names:
			break
		refresh_cases(names)
		if commit:
			frappe.db.commit()
		if len(names) < CHUNK:
			break
	frappe.db.set_global(WATERMARK_KEY, until)
	if commit:
		frappe.db.commit()
	# not the orphan prune: its anti-join over every case took 30 s at 1M (benchmarks/README.md); daily
	rollup.compact(commit)


def prune(commit: bool = True):
	"""Scheduler (daily): rows of cases deleted without the hooks."""
	if not exists():
		return
	while True:
		orphans = frappe.db.sql_list(
			f"""select a.name from `{TABLE}` a left join `tabGrievance` g on g.name = a.name
			where g.name is null limit {cint(CHUNK)}"""
		)
		if not orphans:
			break
		before = rollup.contributions(orphans)
		frappe.db.sql(f"delete from `{TABLE}` where name in %(names)s", {"names": tuple(orphans)})
		rollup.write_difference(before, {})
		if commit:
			frappe.db.commit()


def after_migrate():
	"""A new site, or a table whose layout changed: (re)build it (existing sites: the patch)."""
	if ensure_table():
		rebuild()  # the rollup with it
	elif rollup.ensure_table() or not rollup.exists():
		rollup.rebuild()
