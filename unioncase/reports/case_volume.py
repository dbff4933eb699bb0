"""Case volume: cases per group and period, with the trend against the previous window."""

import frappe
from frappe import _

from unioncase.reports.common import (
	bar_chart,
	group_by_of,
	group_column,
	int_column,
	no_data_message,
	percent_column,
	period_labels,
	previous_window,
	records,
	summary_item,
	with_defaults,
)
from unioncase.reports.queries import CaseQuery, apply_category_rollup, fill_blank

OPTIONS = ("period", "group_by")


def execute(filters=None):
	import pandas as pd

	filters = with_defaults(filters, period="Month")
	group = group_by_of(filters, "category")
	query = CaseQuery(filters, extra=OPTIONS)
	frame = query.aggregate([group], ["cases"], period=filters.period)
	before, until = previous_window(filters)
	previous = CaseQuery({**filters, "from_date": before, "to_date": until}, extra=OPTIONS).aggregate(
		[group], ["cases"]
	)
	if group == "category":
		frame = apply_category_rollup(frame, filters.get("category"))
		previous = apply_category_rollup(previous, filters.get("category"))
	frame, previous = fill_blank(frame, [group]), fill_blank(previous, [group])
	periods = period_labels(filters.period, filters.from_date, filters.to_date)
	keys = {label: "p_" + label.replace("-", "_").lower() for label in periods}

	columns = [group_column(group)]
	columns += [int_column(keys[label], label, 90) for label in periods]
	columns += [
		int_column("total", _("Total")),
		int_column("previous", _("Previous Period")),
		percent_column("change", _("Change")),
	]
	if frame.empty and previous.empty:
		return columns, [], no_data_message(frame), None, []

	table = frame.pivot_table(index=group, columns="period", values="cases", aggfunc="sum", fill_value=0)
	table = table.reindex(columns=periods, fill_value=0)
	prior = previous.groupby(group)["cases"].sum() if not previous.empty else pd.Series(dtype=float)
	table = table.reindex(table.index.union(prior.index), fill_value=0)
	table["total"] = table[periods].sum(axis=1)
	table["previous"] = prior.reindex(table.index, fill_value=0)
	table["change"] = [
		round(100.0 * (now - then) / then, 1) if then else None
		for now, then in zip(table["total"], table["previous"], strict=True)
	]
	table.index.name = group
	table = table.sort_values("total", ascending=False).rename(columns=keys).reset_index()
	data = records(table)

	per_period = [int(frame.loc[frame["period"] == label, "cases"].sum()) for label in periods]
	total, prior_total = int(table["total"].sum()), int(table["previous"].sum())
	chart = bar_chart(periods, {_("Cases"): per_period}, chart_type="line")
	summary = [
		summary_item(total, _("Cases")),
		summary_item(prior_total, _("Previous Period"), indicator="Grey"),
		summary_item(
			round(100.0 * (total - prior_total) / prior_total, 1) if prior_total else 0,
			_("Change"),
			"Percent",
			"Red" if total > prior_total else "Green",
		),
	]
	return columns, data, None, chart, summary
