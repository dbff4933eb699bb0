"""Employers and brands: cases per employer, or per brand or buyer across its suppliers' workplaces.

For collective action and buyer engagement: how many cases, at how many workplaces, how many workers,
and the most frequent categories (top-level categories, a parent counting its children).
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


def execute(filters=None):
	filters = with_defaults(filters, view="Employer")
	if filters.view not in VIEWS:
		bad_filter("view", filters.view)
	group = VIEWS[filters.view]
	query = CaseQuery(filters, extra=OPTIONS)
	measures = {"workplaces": f"count(distinct {G}.`workplace_union`)"}
	if group == "employer":
		# one row a case (no brand join): a sum, not a second distinct count the server sorts for
		measures["open_cases"] = f"cast(sum({G}.`status` = 'Open') as signed)"
	else:
		measures["employers"] = f"count(distinct {G}.`employer`)"
		measures["open_cases"] = f"count(distinct case when {G}.`status` = 'Open' then {G}.`name` end)"
	# a brand join repeats a case once per brand: sums are only taken per employer
	base = ["cases", "workers_affected"] if group == "employer" else ["cases"]
	frame = query.aggregate([group], base, extra_where=f"{G}.`employer` is not null", extra_measures=measures)
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
