"""Outcomes and remedies: cases won, settled, lost and rejected; back pay, workers benefited, ratings.

Counts the cases finished (resolved on a date in the window, or rejected) and what they won.
A rating is stored as a fraction of the stars (3 of 5 is 0.6); the report shows stars.

Grouped by category (the default) over a confederation, federation or branch, the whole months are
read from the monthly rollup's finished grains (reports/rollup.py: keyed by the month of the finish,
per category, status and outcome) and only the window's partial months from the analytics table, so
a year's view reads a few hundred rows a month, not a row per finished case.
"""

import frappe
from frappe import _

from unioncase.reports import rollup, summary
from unioncase.reports.common import (
	bar_chart,
	currency_column,
	float_column,
	group_by_of,
	group_column,
	int_column,
	no_data_message,
	percent_column,
	records,
	summary_item,
	with_defaults,
)
from unioncase.reports.queries import (
	CASE_COLUMN,
	MEASURES,
	PLACE,
	CaseQuery,
	G,
	apply_category_rollup,
	dimension_sql,
	fill_blank,
)

OPTIONS = ("group_by",)
MAX_RATING = 5
OUTCOME_MEASURES = [
	"cases",
	"won",
	"settled",
	"lost",
	"withdrawn",
	"referred",
	"rejected",
	"back_pay_recovered",
	"workers_benefited",
	"rated",
	"rating_sum",
]
# the measures the rollup holds; the outcome counts come from its (status, outcome) groups
ROLLED = ("cases", "back_pay_recovered", "workers_benefited", "rated", "rating_sum")
OUTCOMES = {
	"won": "Resolved in Favour of Worker",
	"settled": "Partially Resolved",
	"lost": "Not Resolved",
	"withdrawn": "Withdrawn",
	"referred": "Referred",
}


def finished_arms(low: str, high: str) -> tuple[str, str]:
	"""The cases resolved or closed in [low, high) by their resolution date, and those rejected in it."""
	return (
		f"({G}.`status` in ('Resolved', 'Closed') and {G}.`resolved_on` >= {low} and {G}.`resolved_on` < {high})",
		f"({G}.`status` = 'Rejected' and {G}.`modified` >= {low} and {G}.`modified` < {high})",
	)


def finished_in(low: str, high: str) -> str:
	"""The cases finished in [low, high), each arm a range its index reads."""
	return "(" + " or ".join(finished_arms(low, high)) + ")"


def per_case(query: CaseQuery, group: str):
	"""The report's frame from the cases' rows, one statement per arm (disjoint by status), added up: under
	one OR a workplace union's official read every case the union ever had (its originating-union index),
	each arm alone reads its own range of the window."""
	import pandas as pd

	frames = [
		query.aggregate([group], OUTCOME_MEASURES, extra_where=arm)
		for arm in finished_arms("%(from_date)s", "%(to_date)s")
	]
	found = [frame for frame in frames if not frame.empty]
	if len(found) < 2:
		return found[0] if found else frames[0]
	return pd.concat(found).groupby(group, dropna=False, as_index=False)[OUTCOME_MEASURES].sum()


def from_rollup(query: CaseQuery, group: str, scope: str):
	"""The report's frame (OUTCOME_MEASURES per group) from the rollup's whole months of the finish and
	the analytics table's partial months; None when the rollup cannot answer (a workplace union's
	scope, a dimension or filter it does not hold)."""
	import pandas as pd

	if not summary.exists() or not rollup.exists():
		return None
	group_sql = dimension_sql(group)
	if PLACE in group_sql + scope or "uc_brand" in group_sql + scope:
		return None
	grain = rollup.grain_for(
		set(CASE_COLUMN.findall(group_sql + scope)) | {"status", "outcome"}, finished=True
	)
	months = rollup.window(query.params)
	if not grain or not months:
		return None
	params = {**query.params, "uc_rollup_first": months[0], "uc_rollup_last": months[1]}
	edges = " or ".join(
		(
			finished_in("%(from_date)s", "%(uc_rollup_first)s"),
			finished_in("%(uc_rollup_last)s", "%(to_date)s"),
		)
	)
	keys = f"{group_sql} as `g`, {G}.`status` as `status`, {G}.`outcome` as `outcome`"
	per_case = ", ".join(
		f"{'count(*)' if name == 'cases' else MEASURES[name]} as `{name}`" for name in ROLLED
	)
	summed = ", ".join(f"{rollup.MEASURES[name][2].format(t=G)} as `{name}`" for name in ROLLED)
	outer = ", ".join(f"sum(`{name}`)" for name in ROLLED)
	rows = frappe.db.sql(
		f"""select `g`, `status`, `outcome`, {outer} from (
			select {keys}, {per_case} from `{summary.TABLE}` {G} where {scope} and ({edges})
			group by 1, 2, 3
			union all select {keys}, {summed} from `{rollup.TABLE}` {G}
			where {G}.`grain` = '{grain}' and {scope} and {G}.`received_on` >= %(uc_rollup_first)s
			and {G}.`received_on` < %(uc_rollup_last)s group by 1, 2, 3
		) uc_rollup group by 1, 2, 3 having sum(`cases`) <> 0""",
		params,
	)
	query.source = f"`{rollup.TABLE}` {G}"
	totals = {}
	for key, status, outcome, *measures in rows:
		cases = int(measures[0])
		row = totals.setdefault(key, dict.fromkeys(OUTCOME_MEASURES, 0))
		for name, value in zip(ROLLED, measures, strict=True):
			row[name] += value
		for name, value in OUTCOMES.items():
			row[name] += cases if outcome == value else 0
		row["rejected"] += cases if status == "Rejected" else 0
	frame = pd.DataFrame(
		[(key, *(row[name] for name in OUTCOME_MEASURES)) for key, row in totals.items()],
		columns=[group, *OUTCOME_MEASURES],
	)
	# the types the per-case GROUP BY gives: a count(*), and sums (decimals) for the rest
	for name in OUTCOME_MEASURES:
		frame[name] = pd.to_numeric(frame[name]).astype("int64" if name == "cases" else "float64")
	return frame


def execute(filters=None):
	filters = with_defaults(filters)
	group = group_by_of(filters, "category")
	query = CaseQuery(filters, extra=OPTIONS, date_field="modified")
	# finished cases: resolved or closed in the window (by their resolution date), or rejected in it
	query.conditions = [c for c in query.conditions if "`modified`" not in c]
	frame = from_rollup(query, group, query.where())
	if frame is None:
		frame = per_case(query, group)
	columns = [
		group_column(group),
		int_column("cases", _("Finished Cases")),
		int_column("won", _("Won")),
		int_column("settled", _("Settled")),
		int_column("lost", _("Lost")),
		int_column("withdrawn", _("Withdrawn")),
		int_column("referred", _("Referred")),
		int_column("rejected", _("Rejected")),
		percent_column("win_rate", _("Won or Settled")),
		currency_column("back_pay_recovered", _("Back Pay Recovered")),
		int_column("workers_benefited", _("Workers Benefited")),
		int_column("rated", _("Ratings")),
		float_column("average_rating", _("Average Rating (of 5)")),
	]
	if frame.empty:
		return columns, [], no_data_message(frame), None, []
	if group == "category":
		frame = apply_category_rollup(frame, filters.get("category"))
	frame = fill_blank(frame, [group])
	frame["win_rate"] = (100.0 * (frame["won"] + frame["settled"]) / frame["cases"]).round(1)
	frame["average_rating"] = [
		round(MAX_RATING * total / rated, 2) if rated else None
		for total, rated in zip(frame["rating_sum"], frame["rated"], strict=True)
	]
	rated, rating_total = int(frame["rated"].sum()), float(frame["rating_sum"].sum())
	# ties in the order of their names: the same table whichever path read the figures
	frame = frame.drop(columns=["rating_sum"]).sort_values(
		["cases", group],
		ascending=[False, True],
		kind="stable",
		key=lambda column: column.astype(str) if column.name == group else column,
	)
	top = frame.head(10)
	chart = bar_chart(
		top[group].tolist(),
		{
			_("Won"): top["won"].tolist(),
			_("Settled"): top["settled"].tolist(),
			_("Lost"): top["lost"].tolist(),
			_("Rejected"): top["rejected"].tolist(),
		},
		stacked=True,
	)
	summary = [
		summary_item(int(frame["cases"].sum()), _("Finished Cases")),
		summary_item(int(frame["won"].sum()), _("Won"), indicator="Green"),
		summary_item(float(frame["back_pay_recovered"].sum()), _("Back Pay Recovered"), "Currency", "Green"),
		summary_item(int(frame["workers_benefited"].sum()), _("Workers Benefited"), indicator="Green"),
		summary_item(
			round(MAX_RATING * rating_total / rated, 2) if rated else 0, _("Average Rating (of 5)"), "Float"
		),
	]
	return columns, records(frame), None, chart, summary
