"""Scoped aggregation over cases: the one query layer the reports, cards, charts and the export share.

Every query is a parameterised SQL GROUP BY over `tabGrievance`, restricted by the hierarchy's own
scope criterion (`unioncase.hierarchy.permissions.grievance_query`, the condition the case list uses),
so a report's totals equal the count of the viewer's list. Only whitelisted dimensions and measures
are selected: none of them is an identity field (`unioncase.privacy.identity`), which is checked when
this module loads, and a federation's own custom fields are offered as dimensions only when they are
a Select, Link or Check field below the identity permission level.

Filters are validated: an unknown filter, a value of the wrong kind or a union, category or employer
that does not exist is a translatable error naming the filter, never a traceback.
"""

import re
from datetime import date

import frappe
from frappe import _
from frappe.utils import add_days, add_months, cint, get_first_day, getdate, nowdate

from unioncase.hierarchy.permissions import grievance_query
from unioncase.privacy.identity import IDENTITY_FIELDS, IDENTITY_PERMLEVEL
from unioncase.reports import rollup, summary

GRIEVANCE = "Grievance"
G = "`tabGrievance`"
# The case's place in the tree for sector and province: the union it came from.
PLACE = "uc_place"
CATEGORY = "Grievance Category"

# Dimension name -> (SQL expression, label). Labels are translated when shown.
DIMENSIONS = {
	"category": (f"{G}.`category`", "Category"),
	"kind": (f"{G}.`kind`", "Kind"),
	"status": (f"{G}.`status`", "Status"),
	"stage": (f"{G}.`workflow_state`", "Stage"),
	"severity": (f"{G}.`severity`", "Severity"),
	"channel": (f"{G}.`channel`", "Channel"),
	"level": (f"{G}.`owning_level`", "Union Level"),
	"union": (f"{G}.`owning_union`", "Owning Union"),
	"branch": (f"{G}.`branch`", "Branch"),
	"federation": (f"{G}.`federation`", "Federation"),
	"workplace_union": (f"{G}.`workplace_union`", "Workplace Union"),
	"originating_union": (f"{G}.`originating_union`", "Originating Union"),
	"employer": (f"{G}.`employer`", "Employer"),
	"sector": (f"`{PLACE}`.`sector`", "Sector"),
	"province": (f"`{PLACE}`.`province`", "Province"),
	"outcome": (f"{G}.`outcome`", "Outcome"),
	"gender": (f"{G}.`reporter_gender`", "Gender"),
	"worker_category": (
		f"case when {G}.`is_anonymous` = 1 then 'Anonymous' else {G}.`reporter_type` end",
		"Worker Category",
	),
	"brand": ("`uc_brand`.`brand_name`", "Brand or Buyer"),
}

# Periods: SQL expression over received_on and how many months one period spans (0 for weeks).
PERIODS = {
	"Week": "concat(left(yearweek({col}, 3), 4), '-W', right(yearweek({col}, 3), 2))",
	"Month": "date_format({col}, '%%Y-%%m')",
	"Quarter": "concat(year({col}), '-Q', quarter({col}))",
	"Year": "cast(year({col}) as char)",
}

# Measure name -> SQL aggregate. "cases" counts distinct cases so a brand join does not double count.
MEASURES = {
	"cases": f"count(distinct {G}.`name`)",
	"workers_affected": f"coalesce(sum({G}.`workers_affected`), 0)",
	"workers_benefited": f"coalesce(sum({G}.`workers_benefited`), 0)",
	"back_pay_recovered": f"coalesce(sum({G}.`back_pay_recovered`), 0)",
	"open": f"sum({G}.`status` = 'Open')",
	"overdue": f"sum({G}.`status` = 'Open' and {G}.`is_overdue` = 1)",
	"resolved": f"sum({G}.`status` in ('Resolved', 'Closed'))",
	"rejected": f"sum({G}.`status` = 'Rejected')",
	"won": f"sum({G}.`outcome` = 'Resolved in Favour of Worker')",
	"settled": f"sum({G}.`outcome` = 'Partially Resolved')",
	"lost": f"sum({G}.`outcome` = 'Not Resolved')",
	"withdrawn": f"sum({G}.`outcome` = 'Withdrawn')",
	"referred": f"sum({G}.`outcome` = 'Referred')",
	"rated": f"sum({G}.`satisfaction_rating` > 0)",
	# Frappe stores a rating as a fraction of the stars: 3 of 5 is 0.6
	"rating_sum": f"coalesce(sum(case when {G}.`satisfaction_rating` > 0 then {G}.`satisfaction_rating` end), 0)",
	"escalated": (
		f"sum(exists (select 1 from `tabGrievance Escalation` uc_hop where uc_hop.parent = {G}.`name`"
		" and uc_hop.parenttype = 'Grievance' and uc_hop.direction = 'Escalated'))"
	),
	"paused_seconds": f"coalesce(sum({G}.`paused_seconds`), 0)",
}

# Select filters: filter name -> (column, allowed values or None for a Link checked in the database).
SELECT_FILTERS = {
	"kind": (f"{G}.`kind`", ("Complaint", "Aspiration")),
	"status": (f"{G}.`status`", ("Open", "Resolved", "Closed", "Rejected")),
	"severity": (f"{G}.`severity`", ("Low", "Medium", "High", "Critical")),
	"channel": (
		f"{G}.`channel`",
		("Web", "Email", "WhatsApp", "SMS", "Social Media", "Walk-in", "Phone", "Other"),
	),
	"level": (f"{G}.`owning_level`", ("Confederation", "Federation", "Branch", "Workplace Union")),
	"stage": (f"{G}.`workflow_state`", "Workflow State"),
	"employer": (f"{G}.`employer`", "Employer"),
	"sector": (f"`{PLACE}`.`sector`", "Union Sector"),
	"province": (f"`{PLACE}`.`province`", None),
}
FILTER_LABELS = {
	"from_date": "From Date",
	"to_date": "To Date",
	"union": "Union",
	"category": "Category",
	"kind": "Kind",
	"status": "Status",
	"severity": "Severity",
	"channel": "Channel",
	"level": "Union Level",
	"stage": "Stage",
	"employer": "Employer",
	"sector": "Sector",
	"province": "Province",
}
CUSTOM_DIMENSION_TYPES = ("Select", "Link", "Check")
# Free text and secrets never become a dimension, whatever their type.
NEVER_GROUPED = frozenset(
	(
		"name",
		"subject",
		"description",
		"remedy",
		"closure_notes",
		"satisfaction_comment",
		"satisfaction_token_hash",
		"escalation_reason",
		"consent_text_version",
		"is_confidential",
	)
)
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
# a column of the case table named in a query (the escalation subquery's own columns are uc_hop's)
CASE_COLUMN = re.compile(r"`tabGrievance`\.`([a-z0-9_]+)`")
# on the analytics table, whether a case was escalated is stored with it
SUMMARY_ESCALATED = f"sum({G}.`escalated`)"


def _assert_no_identity():
	"""Fail at import if a dimension or measure would ever select a worker's identity."""
	identity = set(IDENTITY_FIELDS[GRIEVANCE])
	for name, sql in [(n, d[0]) for n, d in DIMENSIONS.items()] + list(MEASURES.items()):
		used = set(re.findall(r"`([a-z_]+)`", sql))
		if used & identity:
			raise RuntimeError(f"analytics {name} selects an identity field")


_assert_no_identity()


def bad_filter(field: str, value=None):
	label = _(FILTER_LABELS.get(field, field))
	if value is None:
		frappe.throw(_("{0} is not a filter of this report.").format(label), title=_("Invalid filter"))
	frappe.throw(
		_("{0}: {1} is not a valid value.").format(label, frappe.bold(str(value))),
		title=_("Invalid filter"),
	)


def dimension_choices() -> list[tuple[str, str]]:
	"""(name, label) of every group-by choice: the fixed ones and the site's own custom fields."""
	choices = [(name, label) for name, (_sql, label) in DIMENSIONS.items()]
	return choices + [(df.fieldname, df.label or df.fieldname) for df in custom_dimension_fields()]


def custom_dimension_fields() -> list:
	meta = frappe.get_meta(GRIEVANCE)
	identity = set(IDENTITY_FIELDS[GRIEVANCE])
	return [
		df
		for df in meta.fields
		if df.get("is_custom_field")
		and df.fieldtype in CUSTOM_DIMENSION_TYPES
		and cint(df.permlevel) < IDENTITY_PERMLEVEL
		and df.fieldname not in identity
		and df.fieldname not in NEVER_GROUPED
		and IDENTIFIER.match(df.fieldname)
	]


def dimension_sql(name: str) -> str:
	if name in DIMENSIONS:
		return DIMENSIONS[name][0]
	if name and any(df.fieldname == name for df in custom_dimension_fields()):
		return f"{G}.`{name}`"
	frappe.throw(
		_("{0}: {1} is not a valid value.").format(_("Group By"), frappe.bold(str(name))),
		title=_("Invalid filter"),
	)


def dimension_label(name: str) -> str:
	if name in DIMENSIONS:
		return _(DIMENSIONS[name][1])
	for df in custom_dimension_fields():
		if df.fieldname == name:
			return _(df.label or name)
	return _(name)


def period_sql(period: str, column: str = "received_on") -> str:
	if period not in PERIODS:
		frappe.throw(
			_("{0}: {1} is not a valid value.").format(_("Period"), frappe.bold(str(period))),
			title=_("Invalid filter"),
		)
	return PERIODS[period].format(col=f"{G}.`{column}`")


def default_from_date() -> date:
	"""The default view: the last twelve whole months and this one (never the whole history)."""
	return get_first_day(add_months(nowdate(), -12))


def subtree(doctype: str, name: str) -> list[str]:
	bounds = frappe.db.get_value(doctype, name, ["lft", "rgt"], as_dict=True)
	if not bounds:
		return []
	return frappe.db.sql_list(
		f"select name from `tab{doctype}` where lft >= %s and rgt <= %s", (bounds.lft, bounds.rgt)
	)


def as_date(key: str, value) -> date:
	"""A filter's date, or an error naming the filter (not Frappe's own, which names only the value)."""
	if isinstance(value, date):
		return value
	if not re.match(r"^\d{4}-\d{2}-\d{2}", str(value)):
		bad_filter(key, value)
	try:
		return getdate(value)
	except Exception:
		bad_filter(key, value)


class CaseQuery:
	"""The viewer's cases under a report's filters; `aggregate` groups them in SQL.

	`extra` names the report's own options (period, group by, ...) that pass through unvalidated here.
	"""

	def __init__(self, filters=None, user: str | None = None, extra=(), date_field: str = "received_on"):
		self.user = user or frappe.session.user
		self.filters = frappe._dict(filters or {})
		self.params = {}
		self.conditions = []
		self.date_field = date_field
		self.source = G
		if not frappe.has_permission(GRIEVANCE, "read", user=self.user):
			frappe.throw(_("Not permitted to read cases."), frappe.PermissionError)
		scope = grievance_query(self.user)
		if scope:
			self.conditions.append(scope)
		for key, value in self.filters.items():
			if key in extra or value in (None, "", []):
				continue
			self.add_filter(key, value)

	def add_filter(self, key: str, value):
		column = f"{G}.`{self.date_field}`"
		if key == "from_date":
			self.conditions.append(f"{column} >= %(from_date)s")
			self.params["from_date"] = self.as_date(key, value)
		elif key == "to_date":
			self.conditions.append(f"{column} < %(to_date)s")
			self.params["to_date"] = add_days(self.as_date(key, value), 1)
		elif key == "union":
			unions = subtree("Union", value)
			if not unions:
				bad_filter(key, value)
			# owned by a union of that subtree, or escalated from one (as the case list places it)
			self.conditions.append(
				f"({G}.`owning_union` in %(unions)s or {G}.`originating_union` in %(unions)s)"
			)
			self.params["unions"] = tuple(unions)
		elif key == "category":
			# a parent category includes its children
			categories = subtree(CATEGORY, value)
			if not categories:
				bad_filter(key, value)
			self.conditions.append(f"{G}.`category` in %(categories)s")
			self.params["categories"] = tuple(categories)
		elif key in SELECT_FILTERS:
			column, allowed = SELECT_FILTERS[key]
			value = str(value)
			if isinstance(allowed, tuple) and value not in allowed:
				bad_filter(key, value)
			if isinstance(allowed, str) and not frappe.db.exists(allowed, value):
				bad_filter(key, value)
			self.conditions.append(f"{column} = %(f_{key})s")
			self.params[f"f_{key}"] = value
		else:
			bad_filter(key)

	@staticmethod
	def as_date(key, value) -> date:
		return as_date(key, value)

	def from_summary(self, sql: str) -> bool:
		"""Read the analytics table (reports/summary.py) when it holds every column `sql` names."""
		used = set(CASE_COLUMN.findall(sql))
		self.source = G
		if summary.exists() and used <= set(summary.COLUMNS):
			self.source = f"`{summary.TABLE}` {G}"
			return True
		return False

	def from_rollup(self, selects, groups, measures, period, where, extra_measures) -> str | None:
		"""The statement reading whole months from the monthly rollup (reports/rollup.py) and the
		partial months at the window's edges from the analytics table; None when the rollup cannot
		answer (a column, measure, period or scope it does not hold)."""
		if extra_measures or self.date_field != "received_on" or period == "Week":
			return None
		if "cases" not in measures or not set(measures) <= set(rollup.MEASURES):
			return None
		if not summary.exists() or not rollup.exists():
			return None
		dimension_sql_ = ", ".join(selects[: len(groups)])
		if PLACE in dimension_sql_ + where or "uc_brand" in dimension_sql_ + where:
			return None
		used = set(CASE_COLUMN.findall(dimension_sql_ + where)) - {"received_on"}
		grain = rollup.grain_for(used)
		months = rollup.window(self.params)
		if not grain or not months:
			return None
		self.params["uc_rollup_first"], self.params["uc_rollup_last"] = months
		column = f"{G}.`received_on`"
		edges = f"{where} and ({column} < %(uc_rollup_first)s or {column} >= %(uc_rollup_last)s)"
		inside = (
			f"{G}.`grain` = '{grain}' and {where}"
			f" and {column} >= %(uc_rollup_first)s and {column} < %(uc_rollup_last)s"
		)
		group_by = (" group by " + ", ".join(groups)) if groups else ""
		per_case = ", ".join([*selects[: len(groups)], *(f"{MEASURES[m]} as `{m}`" for m in measures)])
		summed = ", ".join(
			[*selects[: len(groups)], *(f"{rollup.MEASURES[m][2].format(t=G)} as `{m}`" for m in measures)]
		)
		# a count stays an integer, as count() gives it on the per-case path
		outer = ", ".join(
			[
				*groups,
				*(
					f"{'cast(sum(`cases`) as signed)' if m == 'cases' else f'sum(`{m}`)'} as `{m}`"
					for m in measures
				),
			]
		)
		self.source = f"`{rollup.TABLE}` {G}"
		return (
			f"select {outer} from ("
			f"select {per_case} from `{summary.TABLE}` {G} where {edges}{group_by}"
			f" union all select {summed} from `{rollup.TABLE}` {G} where {inside}{group_by}"
			f") uc_rollup{group_by}" + (" having sum(`cases`) <> 0" if groups else "")
			# a group whose deltas cancel out (its cases moved away) has no case: no row, as per case
		)

	def where(self) -> str:
		return " and ".join(f"({condition})" for condition in self.conditions) or "1=1"

	def joins(self, sql_parts: str) -> str:
		joins = []
		if PLACE in sql_parts:
			joins.append(f"left join `tabUnion` `{PLACE}` on `{PLACE}`.name = {G}.`originating_union`")
		if "uc_brand" in sql_parts:
			joins.append(
				f"join `tabEmployer Brand` `uc_brand` on `uc_brand`.parent = {G}.`employer`"
				" and `uc_brand`.parenttype = 'Employer'"
			)
		return " ".join(joins)

	def aggregate(
		self,
		dimensions=(),
		measures=("cases",),
		period: str | None = None,
		extra_where="",
		extra_measures=None,
	):
		"""A DataFrame with one row per group: the dimension columns, `period` if asked, the measures.

		`extra_measures` adds a report's own aggregates (name -> SQL) to the shared MEASURES.
		"""
		import pandas as pd

		known = {**MEASURES, **(extra_measures or {})}
		measures = [*measures, *(extra_measures or {})]

		selects, groups = [], []
		for name in dimensions:
			selects.append(f"{dimension_sql(name)} as `{name}`")
			groups.append(f"`{name}`")
		if period:
			selects.append(f"{period_sql(period)} as `period`")
			groups.append("`period`")
		for name in measures:
			selects.append(f"{known[name]} as `{name}`")
		where = self.where() + (f" and ({extra_where})" if extra_where else "")
		select_sql = ", ".join(selects)
		sql = self.from_rollup(selects, groups, measures, period, where, extra_measures)
		if not sql:
			if self.from_summary(select_sql + where):
				select_sql = select_sql.replace(MEASURES["escalated"], SUMMARY_ESCALATED)
			if "uc_brand" not in select_sql + where:
				# one row a case without the brand join: count rows, no distinct the server must sort for
				select_sql = select_sql.replace(MEASURES["cases"], "count(*)")
			sql = f"select {select_sql} from {self.source} {self.joins(select_sql + where)} where {where}"
			if groups:
				sql += " group by " + ", ".join(groups)
		rows = frappe.db.sql(sql, self.params)
		columns = [*dimensions, *(["period"] if period else []), *measures]
		frame = pd.DataFrame([tuple(row) for row in rows], columns=columns)
		for name in measures:
			frame[name] = pd.to_numeric(frame[name]).fillna(0)
		return frame

	def rows(self, fields: dict[str, str], extra_where="", limit: int | None = None):
		"""Per-case rows of non-identifying columns (for percentiles of durations); name -> SQL."""
		import pandas as pd

		for sql in fields.values():
			if set(re.findall(r"`([a-z_]+)`", sql)) & set(IDENTITY_FIELDS[GRIEVANCE]):
				raise RuntimeError("analytics rows select an identity field")
		select_sql = ", ".join(f"{sql} as `{name}`" for name, sql in fields.items())
		where = self.where() + (f" and ({extra_where})" if extra_where else "")
		sql = f"select {select_sql} from {G} {self.joins(select_sql + where)} where {where}"
		if limit:
			sql += f" limit {cint(limit)}"
		rows = frappe.db.sql(sql, self.params)
		return pd.DataFrame([tuple(row) for row in rows], columns=list(fields))


def category_rollup(values, parent: str | None = None) -> dict[str, str]:
	"""Map each category to the node it is shown under: the children of `parent` (or the top of the tree).

	Tree-aware: a case filed under a subcategory counts for its shown ancestor. A category filed
	directly on `parent` stays itself.
	"""
	tree = frappe.db.sql(
		f"select name, lft, rgt, parent_grievance_category as parent from `tab{CATEGORY}`", as_dict=True
	)
	return map_to_shown(tree, values, parent)


def map_to_shown(tree: list, values, parent: str | None = None) -> dict[str, str]:
	"""category_rollup over the given tree rows (name, lft, rgt, parent)."""
	by_name = {row.name: row for row in tree}
	if not (parent and parent in by_name):
		parent = None
		roots = [row for row in tree if not row.parent]
		# a tree under one root (a new site's "All Grievance Categories") is shown by what is below it,
		# not as one row holding every case
		while len(roots) == 1 and any(row.parent == roots[0].name for row in tree):
			parent = roots[0].name
			roots = [row for row in tree if row.parent == parent]
	shown = [row for row in tree if row.parent == parent] if parent else roots
	mapping = {}
	for value in set(values):
		row = by_name.get(value)
		if not row:
			continue
		if value == parent:
			mapping[value] = value
			continue
		for node in shown:
			if node.lft <= row.lft and row.rgt <= node.rgt:
				mapping[value] = node.name
				break
	return mapping


def apply_category_rollup(frame, parent: str | None = None, column: str = "category"):
	"""Replace leaf categories with their shown ancestor and sum the rows that now coincide."""
	if column not in frame.columns or frame.empty:
		return frame
	mapping = category_rollup(frame[column].dropna().unique(), parent)
	frame = frame.copy()
	frame[column] = frame[column].map(lambda value: mapping.get(value, value))
	from pandas.api.types import is_numeric_dtype

	measures = [c for c in frame.columns if c != column and is_numeric_dtype(frame[c])]
	keys = [c for c in frame.columns if c not in measures]
	return frame.groupby(keys, dropna=False, as_index=False)[measures].sum()


def fill_blank(frame, columns, label: str | None = None):
	"""Empty group values read as "Not Set" rather than a blank row."""
	label = label or _("Not Set")
	for column in columns:
		if column in frame.columns:
			frame[column] = frame[column].astype(object).fillna(label).replace("", label)
	return frame
