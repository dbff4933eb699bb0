"""Resolution performance: how fast cases are answered and resolved, in working time.

Time to first response (working hours, `received_on` to `responded_on`) and to resolution (working
days, `received_on` to `resolved_on`, less the time the clock was paused waiting on the worker or the
employer), each on the calendar of the case's owning union (`unioncase.workflows.deadlines`): median
and 90th percentile, the share resolved by the resolution deadline, and how many cases were escalated.
Only the cases received in the chosen window are read (per case, only the group and the dates).
"""

import frappe
import numpy as np
from frappe import _

from unioncase.reports.common import (
	bar_chart,
	float_column,
	group_by_of,
	group_column,
	int_column,
	no_data_message,
	percent_column,
	records,
	share,
	summary_item,
	with_defaults,
)
from unioncase.reports.queries import CaseQuery, G, category_rollup, dimension_sql
from unioncase.workflows.deadlines import WEEKDAYS, calendar_name_for, get_calendar

OPTIONS = ("group_by",)
DAY = np.timedelta64(1, "D")


def busday_args(calendar_name: str | None) -> dict:
	calendar = get_calendar(calendar_name)
	weekmask = [0 if day in calendar.weekly_offs else 1 for day in range(len(WEEKDAYS))]
	return {"weekmask": weekmask, "holidays": sorted(np.datetime64(day, "D") for day in calendar.holidays)}


def working_seconds(start, end, calendar: dict):
	"""Vectorised WorkingCalendar.working_seconds: time between two moments on working days only."""
	start = np.asarray(start, dtype="datetime64[s]")
	end = np.asarray(end, dtype="datetime64[s]")
	valid = ~(np.isnat(start) | np.isnat(end)) & (end > start)
	epoch = np.datetime64("2000-01-03T00:00:00", "s")
	start, end = np.where(valid, start, epoch), np.where(valid, end, epoch)
	start_day, end_day = start.astype("datetime64[D]"), end.astype("datetime64[D]")
	same_day = start_day == end_day
	start_works = np.is_busday(start_day, **calendar)
	end_works = np.is_busday(end_day, **calendar)
	first = np.where(start_works, ((start_day + DAY).astype("datetime64[s]") - start).astype(float), 0.0)
	middle = np.busday_count(np.minimum(start_day + DAY, end_day), end_day, **calendar) * 86400.0
	last = np.where(end_works, (end - end_day.astype("datetime64[s]")).astype(float), 0.0)
	within = np.where(start_works, (end - start).astype(float), 0.0)
	seconds = np.where(same_day, within, first + middle + last)
	return np.where(valid, seconds, np.nan)


def case_durations(query: CaseQuery, group: str):
	"""Per case: the group, working hours to the first response, working days to resolution."""
	import pandas as pd

	frame = query.rows(
		{
			"group": dimension_sql(group),
			"owning_union": f"{G}.`owning_union`",
			"received_on": f"{G}.`received_on`",
			"responded_on": f"{G}.`responded_on`",
			"resolved_on": f"{G}.`resolved_on`",
			"resolution_due_on": f"{G}.`resolution_due_on`",
			"paused_seconds": f"coalesce({G}.`paused_seconds`, 0)",
			"escalated": (
				f"exists (select 1 from `tabGrievance Escalation` uc_hop where uc_hop.parent = {G}.`name`"
				" and uc_hop.parenttype = 'Grievance' and uc_hop.direction = 'Escalated')"
			),
		}
	)
	if frame.empty:
		return frame
	for column in ("received_on", "responded_on", "resolution_due_on"):
		frame[column] = pd.to_datetime(frame[column])
	frame["resolved_on"] = pd.to_datetime(frame["resolved_on"])
	frame["response_hours"] = np.nan
	frame["resolution_days"] = np.nan
	calendars = {}
	for union in frame["owning_union"].dropna().unique():
		calendars.setdefault(calendar_name_for(union), []).append(union)
	for calendar_name, unions in calendars.items():
		rows = frame["owning_union"].isin(unions)
		spec = busday_args(calendar_name)
		part = frame.loc[rows]
		frame.loc[rows, "response_hours"] = (
			working_seconds(part["received_on"].values, part["responded_on"].values, spec) / 3600.0
		)
		resolution = working_seconds(part["received_on"].values, part["resolved_on"].values, spec)
		resolution = np.maximum(resolution - part["paused_seconds"].astype(float).values, 0.0)
		frame.loc[rows, "resolution_days"] = resolution / 86400.0
	frame["within_target"] = frame["resolved_on"].notna() & (
		frame["resolved_on"] <= frame["resolution_due_on"].dt.normalize()
	)
	return frame


QUANTILES = (0.5, 0.9)
# rows of the candidates for each quantile's two neighbours (positions counted from 0)
PICK = " or ".join(
	f"(rn - 1 between floor((n - 1) * {q}) - 1 and floor((n - 1) * {q}) + 2)" for q in QUANTILES
)


def quantiles_of(rows, scale: float) -> dict:
	"""group -> (median, 90th percentile) from the rows around each position, as pandas computes them
	over the whole column (np.nanmedian; np.quantile's linear method), so the figures are the same."""
	by_group = {}
	for group, value, below, upto, n in rows:
		by_group.setdefault(group, (int(n), []))[1].append((int(below), int(upto), float(value) / scale))

	def at(parts, position):
		for below, upto, value in parts:
			if below <= position < upto:
				return value

	out = {}
	for group, (n, parts) in by_group.items():
		middle = n // 2
		median = at(parts, middle) if n % 2 else float(np.mean([at(parts, middle - 1), at(parts, middle)]))
		virtual = (n - 1) * np.float64(0.9)
		previous = int(np.floor(virtual))
		a, b = at(parts, previous), at(parts, min(previous + 1, n - 1))
		gamma = virtual - previous
		p90 = float(b - (b - a) * (1 - gamma)) if gamma >= 0.5 else float(a + (b - a) * gamma)
		out[group] = (median, p90)
	return out


def summary_figures(query: CaseQuery, group: str, parent: str | None):
	"""The report's rows from the analytics table (reports/summary.py): counts and shares per group in
	one GROUP BY, each percentile in SQL over the group's stored working times (window functions), so
	the report reads a few rows per group whatever the number of cases; None when the table cannot
	answer (a custom field's group)."""
	group_sql = dimension_sql(group)
	if group == "category":
		categories = frappe.get_all("Grievance Category", pluck="name")
		mapping = category_rollup(categories, parent)
		whens = " ".join(
			f"when {frappe.db.escape(leaf)} then {frappe.db.escape(shown)}"
			for leaf, shown in mapping.items()
			if leaf != shown
		)
		if whens:
			group_sql = f"(case {G}.`category` {whens} else {G}.`category` end)"
	where = query.where()
	probe = f"{group_sql} {where} {G}.`response_seconds` {G}.`resolution_seconds`"
	if not query.from_summary(probe):
		return None
	source, joins = query.source, query.joins(group_sql + where)
	counts = frappe.db.sql(
		f"""select {group_sql} as g, count(*), count({G}.`response_seconds`),
		count({G}.`resolution_seconds`), sum({G}.`within_target`), sum({G}.`escalated`)
		from {source} {joins} where {where} group by 1""",
		query.params,
	)
	# each count is a sum over the cases: the total's row adds the groups' rows up (no second read)
	totals = [("__total__", *(sum(row[i] or 0 for row in counts) for i in range(1, 6)))] if counts else []
	grouped = []
	# the total's quantiles in a statement of their own: with a second row_number() over another order
	# in the same SELECT, and the outer WHERE picking positions, MariaDB 10.11.19 returned wrong rows
	for key_sql, counts_ in ((group_sql, counts), ("'__total__'", totals)):
		figures = {}
		for column, scale in (("response_seconds", 3600.0), ("resolution_seconds", 86400.0)):
			# one sort a group: each stored time numbered in order, only the neighbours of each quantile
			# position leave the server
			rows = frappe.db.sql(
				f"""select g, v, rn - 1, rn, n from (select {key_sql} as g, {G}.`{column}` as v,
					row_number() over (partition by {key_sql} order by {G}.`{column}`) as rn,
					count(*) over (partition by {key_sql}) as n
					from {source} {joins} where {where} and {G}.`{column}` is not null) r
				where {PICK}""",
				query.params,
			)
			figures[column] = quantiles_of(rows, scale)
		grouped.append((counts_, figures))
	return grouped


def rows_from_summary(grouped) -> tuple[list, dict]:
	def row_of(key, cases, responded, resolved, within, escalated, figures):
		response = figures["response_seconds"].get(key, (None, None))
		resolution = figures["resolution_seconds"].get(key, (None, None))
		return {
			"cases": int(cases),
			"responded": int(responded),
			"response_median": round(response[0], 1) if responded else None,
			"response_p90": round(response[1], 1) if responded else None,
			"resolved": int(resolved),
			"resolution_median": round(resolution[0], 1) if resolved else None,
			"resolution_p90": round(resolution[1], 1) if resolved else None,
			"within_target": share(int(within or 0), int(resolved)),
			"escalation_rate": share(int(escalated or 0), int(cases)),
		}

	(counts, figures), (total_counts, total_figures) = grouped
	merged = {}
	for key, *numbers in counts:
		shown = key if key not in (None, "") else _("Not Set")
		# groups that read "Not Set" (empty and missing) are one row, as in the per-case path
		merged.setdefault(shown, []).append((key, numbers))
	data = []
	for shown, parts in merged.items():
		if len(parts) == 1:
			key, numbers = parts[0]
			data.append((shown, row_of(key, *numbers, figures)))
		else:
			data.append((shown, None))
	overall = row_of("__total__", *total_counts[0][1:], total_figures) if total_counts else None
	return data, overall


def execute(filters=None):
	filters = with_defaults(filters)
	group = group_by_of(filters, "level")
	query = CaseQuery(filters, extra=OPTIONS)
	grouped = summary_figures(query, group, filters.get("category"))
	if grouped is not None:
		data, overall = rows_from_summary(grouped)
		if all(row is not None for _key, row in data):
			# in the order pandas' groupby gives the per-case path (sorted keys), then by cases
			data.sort(key=lambda item: str(item[0]))
			return present(group, [{group: key, **row} for key, row in data], overall)
	frame = case_durations(query, group)
	if frame.empty:
		return report_columns(group), [], no_data_message(frame), None, []
	if group == "category":
		mapping = category_rollup(frame["group"].dropna().unique(), filters.get("category"))
		frame["group"] = frame["group"].map(lambda value: mapping.get(value, value))
	frame["group"] = frame["group"].fillna(_("Not Set")).replace("", _("Not Set"))

	def summarise(part) -> dict:
		resolved = part["resolution_days"].dropna()
		responded = part["response_hours"].dropna()
		return {
			"cases": len(part),
			"responded": len(responded),
			"response_median": round(float(responded.median()), 1) if len(responded) else None,
			"response_p90": round(float(responded.quantile(0.9)), 1) if len(responded) else None,
			"resolved": len(resolved),
			"resolution_median": round(float(resolved.median()), 1) if len(resolved) else None,
			"resolution_p90": round(float(resolved.quantile(0.9)), 1) if len(resolved) else None,
			"within_target": share(int(part["within_target"].sum()), len(resolved)),
			"escalation_rate": share(int(part["escalated"].astype(int).sum()), len(part)),
		}

	data = [{group: key, **summarise(part)} for key, part in frame.groupby("group")]
	return present(group, data, summarise(frame))


def report_columns(group: str) -> list:
	return [
		group_column(group),
		int_column("cases", _("Cases")),
		int_column("responded", _("Responded")),
		float_column("response_median", _("Median Hours to First Response"), 150),
		float_column("response_p90", _("90th Percentile Hours to First Response"), 150),
		int_column("resolved", _("Resolved")),
		float_column("resolution_median", _("Median Working Days to Resolution"), 150),
		float_column("resolution_p90", _("90th Percentile Working Days to Resolution"), 150),
		percent_column("within_target", _("Resolved within Target")),
		percent_column("escalation_rate", _("Escalation Rate")),
	]


def present(group: str, data: list, overall: dict | None):
	columns = report_columns(group)
	if not overall or not overall["cases"]:
		return columns, [], no_data_message(None), None, []
	data.sort(key=lambda row: -row["cases"])
	data.append({group: _("Total"), **overall, "is_total_row": 1})
	chart = bar_chart(
		[row[group] for row in data[:-1]],
		{_("Median Working Days to Resolution"): [row["resolution_median"] or 0 for row in data[:-1]]},
	)
	summary = [
		summary_item(overall["response_median"] or 0, _("Median Hours to First Response"), "Float"),
		summary_item(overall["resolution_median"] or 0, _("Median Working Days to Resolution"), "Float"),
		summary_item(overall["within_target"], _("Resolved within Target"), "Percent", "Green"),
		summary_item(overall["escalation_rate"], _("Escalation Rate"), "Percent", "Orange"),
	]
	return columns, records_of(data), None, chart, summary


def records_of(data):
	return [
		{key: (value.item() if hasattr(value, "item") else value) for key, value in row.items()}
		for row in data
	]
