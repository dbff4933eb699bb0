"""Employers and brands: cases per employer, or per brand or buyer across its suppliers' workplaces.

For collective action and buyer engagement: how many cases, at how many workplaces, how many workers,
and the most frequent categories (top-level categories, a parent counting its children).

Per employer, the counts are grouped by employer, workplace union and status first (what the monthly
rollup's employer grains hold, reports/rollup.py), then added up here: the workplaces are the distinct
workplace unions among an employer's groups, so the figure stays exact without a distinct count in SQL.
"""

from frappe import _

from unioncase.reports.common import (
	bar_chart,
	group_column,
	int_column,
	no_data_message,
	records,
	summary_item,
	with_defaults,
)
from unioncase.reports.queries import CaseQuery, G, apply_category_rollup, bad_filter, fill_blank

OPTIONS = ("view",)
VIEWS = {"Employer": "employer", "Brand or Buyer": "brand"}
TOP_CATEGORIES = 3
BRANDED = (
	f"exists (select 1 from `tabEmployer Brand` uc_b where uc_b.parent = {G}.`employer`"
	" and uc_b.parenttype = 'Employer')"
)


def per_employer(query):
	"""cases, workers_affected, workplaces, open_cases per employer, from (employer, workplace union,
	status) groups: the rollup's whole months when it can answer, the analytics table otherwise."""
	import pandas as pd

	groups = query.aggregate(
		["employer", "workplace_union", "status"],
		["cases", "workers_affected"],
		extra_where=f"{G}.`employer` is not null",
	)
	groups["open_cases"] = groups["cases"].where(groups["status"] == "Open", 0)
	by_employer = groups.groupby("employer", sort=False)
	frame = by_employer[["cases", "workers_affected", "open_cases"]].sum()
	frame["workplaces"] = by_employer["workplace_union"].nunique()
	frame = frame.reset_index()
	# the types the per-case GROUP BY gave: counts as integers, the sum of workers as a decimal's float
	for name in ("cases", "open_cases", "workplaces"):
		frame[name] = pd.to_numeric(frame[name]).astype("int64")
	frame["workers_affected"] = pd.to_numeric(frame["workers_affected"]).astype("float64")
	return frame[["employer", "cases", "workers_affected", "workplaces", "open_cases"]]


def execute(filters=None):
	filters = with_defaults(filters, view="Employer")
	if filters.view not in VIEWS:
		bad_filter("view", filters.view)
	group = VIEWS[filters.view]
	query = CaseQuery(filters, extra=OPTIONS)
	if group == "employer":
		frame = per_employer(query)
	else:
		measures = {
			"workplaces": f"count(distinct {G}.`workplace_union`)",
			"employers": f"count(distinct {G}.`employer`)",
			"open_cases": f"count(distinct case when {G}.`status` = 'Open' then {G}.`name` end)",
		}
		# a brand join repeats a case once per brand: only distinct counts here
		frame = query.aggregate(
			[group], ["cases"], extra_where=f"{G}.`employer` is not null", extra_measures=measures
		)
	by_category = query.aggregate([group, "category"], ["cases"], extra_where=f"{G}.`employer` is not null")
	columns = [
		group_column(group, 240),
		int_column("cases", _("Cases")),
		int_column("open_cases", _("Open Cases")),
		int_column("workplaces", _("Workplaces")),
	]
	if group == "brand":
		columns.append(int_column("employers", _("Employers")))
	else:
		columns.append(int_column("workers_affected", _("Workers Affected"), 130))
	columns.append(
		{
			"fieldname": "top_categories",
			"label": _("Most Frequent Categories"),
			"fieldtype": "Data",
			"width": 320,
		}
	)
	if frame.empty:
		return columns, [], no_data_message(frame), None, []
	by_category = fill_blank(apply_category_rollup(by_category), ["category"])
	top = (
		by_category.sort_values(["cases", "category"], ascending=[False, True])
		.groupby(group)
		.head(TOP_CATEGORIES)
		.groupby(group)
		.apply(
			lambda part: ", ".join(
				f"{_(c)} ({int(n)})" for c, n in zip(part["category"], part["cases"], strict=True)
			),
			include_groups=False,
		)
	)
	frame = frame.set_index(group)
	frame["top_categories"] = top.reindex(frame.index).fillna("")
	frame = frame.sort_values("cases", ascending=False).reset_index()
	head = frame.head(10)
	chart = bar_chart(head[group].tolist(), {_("Cases"): head["cases"].tolist()})
	if group == "employer":
		cases = int(frame["cases"].sum())
	else:  # a case counts once however many brands its employer supplies
		cases = int(query.aggregate([], ["cases"], extra_where=BRANDED)["cases"].sum())
	summary = [
		summary_item(len(frame), _("Employers") if group == "employer" else _("Brand or Buyer")),
		summary_item(cases, _("Cases")),
	]
	return columns, records(frame), None, chart, summary
