"""Who is affected: gender and worker category of the cases' reporters, per category or sector.

Gender is the reporter's gender recorded on the case (kept after redaction, never an identity);
the worker category is whether the reporter is a member, a non-member, or anonymous.
"""

from frappe import _

from unioncase.reports.common import (
	bar_chart,
	group_column,
	int_column,
	no_data_message,
	percent_column,
	records,
	summary_item,
	with_defaults,
)
from unioncase.reports.queries import CaseQuery, apply_category_rollup, bad_filter, fill_blank

OPTIONS = ("group_by",)
GROUPS = ("category", "sector")
GENDERS = (
	("Female", "female"),
	("Male", "male"),
	("Other", "other_gender"),
	("Prefer not to say", "undisclosed"),
)
WORKER_CATEGORIES = (("Member", "members"), ("Non-member", "non_members"), ("Anonymous", "anonymous"))


def execute(filters=None):
	filters = with_defaults(filters)
	group = filters.get("group_by") or "category"
	if group not in GROUPS:
		bad_filter("group_by", group)
	frame = CaseQuery(filters, extra=OPTIONS).aggregate(
		[group, "gender", "worker_category"], ["cases", "workers_affected"]
	)
	columns = [group_column(group), int_column("cases", _("Cases"))]
	columns += [int_column(key, _(label)) for label, key in GENDERS]
	columns += [
		int_column("gender_not_set", _("Gender Not Recorded"), 130),
		percent_column("female_share", _("Women")),
	]
	columns += [int_column(key, _(label)) for label, key in WORKER_CATEGORIES]
	columns += [int_column("workers_affected", _("Workers Affected"), 130)]
	if frame.empty:
		return columns, [], no_data_message(frame), None, []
	if group == "category":
		frame = apply_category_rollup(frame, filters.get("category"))
	frame = fill_blank(frame, [group])
	frame["gender"] = frame["gender"].fillna("").replace("", "Not Set")
	frame["worker_category"] = frame["worker_category"].fillna("").replace("", "Not Set")

	keys = dict(GENDERS) | {"Not Set": "gender_not_set"}
	by_gender = frame.pivot_table(index=group, columns="gender", values="cases", aggfunc="sum", fill_value=0)
	by_gender = by_gender.rename(columns=keys).reindex(columns=list(keys.values()), fill_value=0)
	by_worker = frame.pivot_table(
		index=group, columns="worker_category", values="cases", aggfunc="sum", fill_value=0
	)
	by_worker = by_worker.rename(columns=dict(WORKER_CATEGORIES)).reindex(
		columns=[key for _label, key in WORKER_CATEGORIES], fill_value=0
	)
	totals = frame.groupby(group)[["cases", "workers_affected"]].sum()
	table = totals.join(by_gender).join(by_worker)
	recorded = table[[key for _label, key in GENDERS]].sum(axis=1)
	table["female_share"] = (100.0 * table["female"] / recorded.where(recorded > 0)).round(1).fillna(0)
	table = table.sort_values("cases", ascending=False).reset_index()
	top = table.head(10)
	chart = bar_chart(
		top[group].tolist(), {_(label): top[key].tolist() for label, key in GENDERS}, stacked=True
	)
	women, known = int(table["female"].sum()), int(recorded.sum())
	summary = [
		summary_item(int(table["cases"].sum()), _("Cases")),
		summary_item(round(100.0 * women / known, 1) if known else 0, _("Women"), "Percent", "Purple"),
		summary_item(int(table["anonymous"].sum()), _("Anonymous"), indicator="Grey"),
	]
	return columns, records(table), None, chart, summary
