"""Outcomes and remedies: cases won, settled, lost and rejected; back pay, workers benefited, ratings.

Counts the cases finished (resolved on a date in the window, or rejected) and what they won.
A rating is stored as a fraction of the stars (3 of 5 is 0.6); the report shows stars.
"""

from frappe import _

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
from unioncase.reports.queries import CaseQuery, G, apply_category_rollup, fill_blank

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


def execute(filters=None):
	filters = with_defaults(filters)
	group = group_by_of(filters, "category")
	query = CaseQuery(filters, extra=OPTIONS, date_field="modified")
	# finished cases: resolved or closed in the window (by their resolution date), or rejected in it
	query.conditions = [c for c in query.conditions if "`modified`" not in c]
	query.conditions.append(
		f"(({G}.`status` in ('Resolved', 'Closed') and {G}.`resolved_on` >= %(from_date)s"
		f" and {G}.`resolved_on` < %(to_date)s) or ({G}.`status` = 'Rejected'"
		f" and {G}.`modified` >= %(from_date)s and {G}.`modified` < %(to_date)s))"
	)
	frame = query.aggregate([group], OUTCOME_MEASURES)
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
	frame = frame.drop(columns=["rating_sum"]).sort_values("cases", ascending=False)
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
