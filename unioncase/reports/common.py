"""What the analytics reports share: default filters, periods, columns and charts."""

from datetime import date, timedelta

import frappe
from frappe import _
from frappe.utils import add_days, getdate, nowdate

from unioncase.reports.queries import (
	DIMENSIONS,
	PERIODS,
	as_date,
	default_from_date,
	dimension_label,
	dimension_sql,
)

LINKS = {
	"category": "Grievance Category",
	"union": "Union",
	"branch": "Union",
	"federation": "Union",
	"workplace_union": "Union",
	"employer": "Employer",
	"sector": "Union Sector",
	"stage": "Workflow State",
}


def with_defaults(filters, **defaults):
	"""The report's filters with its defaults filled in; a date range defaults to the last 12 months."""
	filters = frappe._dict(filters or {})
	filters.setdefault("from_date", None)
	filters.setdefault("to_date", None)
	if not filters.from_date:
		filters.from_date = default_from_date()
	if not filters.to_date:
		filters.to_date = getdate(nowdate())
	for key, value in defaults.items():
		if not filters.get(key):
			filters[key] = value
	filters.from_date = as_date("from_date", filters.from_date)
	filters.to_date = as_date("to_date", filters.to_date)
	if filters.from_date > filters.to_date:
		frappe.throw(
			_("{0} must not be after {1}.").format(_("From Date"), _("To Date")), title=_("Invalid filter")
		)
	return filters


def group_by_of(filters, default: str) -> str:
	name = filters.get("group_by") or default
	dimension_sql(name)  # refuses an unknown or identity field
	return name


def group_column(name: str, width: int = 220) -> dict:
	column = {"fieldname": name, "label": dimension_label(name), "width": width}
	if name in LINKS:
		column.update(fieldtype="Link", options=LINKS[name])
	else:
		column["fieldtype"] = "Data"
	return column


def int_column(fieldname: str, label: str, width: int = 110) -> dict:
	return {"fieldname": fieldname, "label": label, "fieldtype": "Int", "width": width}


def float_column(fieldname: str, label: str, width: int = 120, precision: int = 1) -> dict:
	return {
		"fieldname": fieldname,
		"label": label,
		"fieldtype": "Float",
		"width": width,
		"precision": precision,
	}


def percent_column(fieldname: str, label: str, width: int = 110) -> dict:
	return {"fieldname": fieldname, "label": label, "fieldtype": "Percent", "width": width}


def currency_column(fieldname: str, label: str, width: int = 150) -> dict:
	return {"fieldname": fieldname, "label": label, "fieldtype": "Currency", "width": width}


def period_labels(period: str, start, end) -> list[str]:
	"""Every period between two dates, as the SQL in queries.PERIODS spells them (empty ones too)."""
	if period not in PERIODS:
		frappe.throw(
			_("{0}: {1} is not a valid value.").format(_("Period"), period), title=_("Invalid filter")
		)
	start, end = getdate(start), getdate(end)
	labels, day = [], start
	while day <= end:
		if period == "Week":
			year, week, _weekday = day.isocalendar()
			label = f"{year}-W{week:02d}"
			day += timedelta(days=7 - day.weekday())
		elif period == "Month":
			label = f"{day.year}-{day.month:02d}"
			day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
		elif period == "Quarter":
			quarter = (day.month - 1) // 3 + 1
			label = f"{day.year}-Q{quarter}"
			day = date(day.year + quarter // 4, (quarter % 4) * 3 + 1, 1)
		else:
			label = str(day.year)
			day = date(day.year + 1, 1, 1)
		if label not in labels:
			labels.append(label)
	return labels


def previous_window(filters) -> tuple[date, date]:
	"""The window of the same length just before the report's range (for the trend)."""
	start, end = getdate(filters.from_date), getdate(filters.to_date)
	length = (end - start).days + 1
	return add_days(start, -length), add_days(start, -1)


def share(part, whole) -> float:
	return round(100.0 * part / whole, 1) if whole else 0.0


def records(frame) -> list[dict]:
	"""DataFrame rows as plain dicts of Python values (numpy scalars do not serialise)."""
	rows = []
	for row in frame.to_dict("records"):
		rows.append({key: value.item() if hasattr(value, "item") else value for key, value in row.items()})
	return rows


def bar_chart(labels, datasets: dict[str, list], chart_type: str = "bar", stacked: bool = False) -> dict:
	chart = {
		"data": {
			"labels": [str(label) for label in labels],
			"datasets": [
				{"name": name, "values": [float(v) for v in values]} for name, values in datasets.items()
			],
		},
		"type": chart_type,
	}
	if stacked:
		chart["barOptions"] = {"stacked": 1}
	return chart


def no_data_message(frame) -> str | None:
	if frame is None or frame.empty:
		return _("No cases match these filters in your part of the union tree.")
	return None


def summary_item(value, label: str, datatype: str = "Int", indicator: str = "Blue") -> dict:
	return {"value": value, "label": label, "datatype": datatype, "indicator": indicator}


def group_by_options() -> list[str]:
	return list(DIMENSIONS)
