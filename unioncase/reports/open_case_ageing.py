"""Open-case ageing: open cases by stage and owning union in age bands, overdue and paused apart.

Age is calendar days since the case was received. Paused time (waiting on the worker or the employer)
is shown in its own columns: the days already paused and the cases paused right now.
"""

import frappe
from frappe import _
from frappe.utils import now_datetime

from unioncase.reports.common import (
	bar_chart,
	float_column,
	group_column,
	int_column,
	no_data_message,
	records,
	summary_item,
)
from unioncase.reports.queries import CaseQuery, G, fill_blank

# (fieldname, label, lowest age in days, highest age in days or None)
BANDS = (
	("age_0_7", "0-7 Days", 0, 7),
	("age_8_30", "8-30 Days", 8, 30),
	("age_31_90", "31-90 Days", 31, 90),
	("age_91_180", "91-180 Days", 91, 180),
	("age_over_180", "Over 180 Days", 181, None),
)
OPTIONS = ()


def band_measures(now_sql: str = "now()") -> dict[str, str]:
	age = f"datediff({now_sql}, {G}.`received_on`)"
	measures = {}
	for fieldname, _label, low, high in BANDS:
		condition = f"{age} >= {low}" + (f" and {age} <= {high}" if high is not None else "")
		measures[fieldname] = f"sum({condition})"
	measures["paused_now"] = f"sum({G}.`clock_paused_since` is not null)"
	measures["paused_days"] = (
		f"coalesce(sum({G}.`paused_seconds`), 0) / 86400 + coalesce(sum(timestampdiff(second,"
		f" {G}.`clock_paused_since`, {now_sql})), 0) / 86400"
	)
	return measures


def execute(filters=None):
	filters = frappe._dict(filters or {})
	if filters.get("status") not in (None, "", "Open"):
		frappe.throw(_("This report shows open cases only."), title=_("Invalid filter"))
	filters.pop("status", None)
	query = CaseQuery(filters, extra=OPTIONS)
	frame = query.aggregate(
		["stage", "union"],
		["cases", "overdue"],
		extra_where=f"{G}.`status` = 'Open'",
		extra_measures=band_measures(frappe.db.escape(str(now_datetime()))),
	)
	columns = [group_column("stage", 170), group_column("union", 240)]
	columns += [int_column(fieldname, _(label), 100) for fieldname, label, *_bounds in BANDS]
	columns += [
		int_column("cases", _("Open Cases")),
		int_column("overdue", _("Overdue")),
		int_column("paused_now", _("Paused Now")),
		float_column("paused_days", _("Days Paused")),
	]
	if frame.empty:
		return columns, [], no_data_message(frame), None, []
	frame = fill_blank(frame, ["stage", "union"]).sort_values(["stage", "cases"], ascending=[True, False])
	band_totals = [int(frame[fieldname].sum()) for fieldname, *_rest in BANDS]
	chart = bar_chart([_(label) for _f, label, *_b in BANDS], {_("Open Cases"): band_totals})
	chart["colors"] = ["#ECAD4B"]
	summary = [
		summary_item(int(frame["cases"].sum()), _("Open Cases")),
		summary_item(int(frame["overdue"].sum()), _("Overdue"), indicator="Red"),
		summary_item(int(frame["paused_now"].sum()), _("Paused Now"), indicator="Grey"),
	]
	return columns, records(frame), None, chart, summary
