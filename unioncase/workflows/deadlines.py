"""Case deadlines: response and resolution targets from the deadline policy, in working time.

The clock runs around the clock on working days and stops on weekly days off and holidays of the
case's calendar (Union Holiday Calendar). A target of 3 working days from Friday 10:00 with Saturday
and Sunday off is due on Wednesday 10:00; 24 working hours from Friday 16:00 is due Monday 16:00.

- Arrival (insert): response and resolution are due `target` after `received_on`.
- Stage change (`workflow_state`, by any path that saves the case): the first change out of the state
  the case arrived in is its response (`responded_on`); entering a pausing state stops the clock
  (`clock_paused_since`), leaving it adds the paused working time to `paused_seconds` and pushes the
  due dates by as much; the policy is matched again, and a rule for the new stage counts its
  resolution target from the moment the case entered that stage.
- `next_due_on` is the earliest deadline still running (empty while paused or once the case is no
  longer open): the overdue job (`overdue.py`) reads it through the (is_overdue, status, next_due_on)
  index. A case whose next deadline moves into the future is no longer overdue.
"""

from datetime import date, datetime, time, timedelta

import frappe
from frappe.utils import cint, flt, get_datetime, getdate, now_datetime

from unioncase.workflows.status import OPEN

POLICY = "Grievance Deadline Policy"
CALENDAR = "Union Holiday Calendar"
SETTINGS = "Grievance Deadline Settings"
DAY = 86400
UNIT_SECONDS = {"Working Days": DAY, "Working Hours": 3600}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_PAUSING_STATES = ("Waiting on Worker", "Waiting on Employer")
# Fields whose change re-matches the policy (the owning union decides the calendar).
POLICY_FIELDS = ("kind", "category", "severity", "owning_union", "workflow_state")
CALENDAR_CACHE_KEY = "unioncase_holiday_calendars"


class WorkingCalendar:
	"""Working-time arithmetic over weekly days off (0 = Monday) and dated holidays; no database."""

	def __init__(self, weekly_offs=(), holidays=()):
		self.weekly_offs = frozenset(weekly_offs)
		self.holidays = frozenset(getdate(day) for day in holidays)
		self._days_ahead = {}
		if len(self.weekly_offs) == 7:
			frappe.throw(
				frappe._("A holiday calendar needs at least one working day in the week."),
				title=frappe._("No working days"),
			)

	def is_working_day(self, day: date) -> bool:
		return day.weekday() not in self.weekly_offs and day not in self.holidays

	def add_working_days(self, day: date, days: int) -> date:
		"""The `days`-th working day after `day` (memoised: many cases share an arrival day)."""
		key = (day, days)
		if key not in self._days_ahead:
			result = day
			for _step in range(days):
				result += timedelta(days=1)
				while not self.is_working_day(result):
					result += timedelta(days=1)
			self._days_ahead[key] = result
		return self._days_ahead[key]

	def add(self, start: datetime, seconds: float) -> datetime:
		"""The moment `seconds` of working time after `start`."""
		moment = get_datetime(start)
		while not self.is_working_day(moment.date()):
			moment = datetime.combine(moment.date() + timedelta(days=1), time.min)
		whole_days, remainder = divmod(max(0.0, float(seconds)), DAY)
		if whole_days:
			# Jump all but the last day; walking that one lands on the earliest equal moment (Monday
			# 24:00 rather than Wednesday 00:00 when Tuesday is a holiday).
			moment = datetime.combine(
				self.add_working_days(moment.date(), int(whole_days) - 1), moment.time()
			)
			remainder += DAY
		while True:
			day_end = datetime.combine(moment.date() + timedelta(days=1), time.min)
			if self.is_working_day(moment.date()):
				left = (day_end - moment).total_seconds()
				if remainder <= left:
					return moment + timedelta(seconds=remainder)
				remainder -= left
			moment = day_end

	def working_seconds(self, start: datetime, end: datetime) -> float:
		"""Working time between two moments (0 when end is not after start)."""
		start, end = get_datetime(start), get_datetime(end)
		total = 0.0
		while start < end:
			day_end = datetime.combine(start.date() + timedelta(days=1), time.min)
			if self.is_working_day(start.date()):
				total += (min(day_end, end) - start).total_seconds()
			start = day_end
		return total


# ---------------------------------------------------------------------------------------------------
# Calendars and policy
# ---------------------------------------------------------------------------------------------------


def get_calendar(name: str | None) -> WorkingCalendar:
	"""A named Union Holiday Calendar; without one, every day is a working day."""
	if not name:
		return WorkingCalendar()
	spec = frappe.cache.hget(CALENDAR_CACHE_KEY, name, generator=lambda: _calendar_spec(name))
	return WorkingCalendar(*spec)


def _calendar_spec(name: str) -> tuple[list[int], list[date]]:
	doc = frappe.get_doc(CALENDAR, name)
	offs = [i for i, day in enumerate(WEEKDAYS) if cint(doc.get(f"{day}_off"))]
	return offs, [row.holiday_date for row in doc.holidays]


def clear_calendar_cache():
	frappe.cache.delete_value(CALENDAR_CACHE_KEY)


def calendar_name_for(union: str | None, policy: dict | None = None) -> str | None:
	"""The policy's calendar, else the first union from `union` up the tree naming one, else the default."""
	if policy and policy.get("holiday_calendar"):
		return policy["holiday_calendar"]
	seen = set()
	while union and union not in seen:
		seen.add(union)
		row = frappe.db.get_value("Union", union, ["holiday_calendar", "parent_union"], as_dict=True)
		if not row:
			break
		if row.holiday_calendar:
			return row.holiday_calendar
		union = row.parent_union
	return frappe.db.get_single_value(SETTINGS, "default_holiday_calendar")


def get_policies() -> list[dict]:
	"""Enabled rules with their category's tree bounds (a handful of rows: read fresh, never stale)."""
	policies = frappe.get_all(
		POLICY,
		filters={"enabled": 1},
		fields=[
			"name",
			"kind",
			"category",
			"severity",
			"workflow_state",
			"response_target",
			"response_unit",
			"resolution_target",
			"resolution_unit",
			"overdue_action",
			"holiday_calendar",
		],
		order_by="name",
	)
	categories = [policy.category for policy in policies if policy.category]
	bounds = (
		{
			row.name: (row.lft, row.rgt)
			for row in frappe.get_all(
				"Grievance Category", filters={"name": ["in", categories]}, fields=["name", "lft", "rgt"]
			)
		}
		if categories
		else {}
	)
	for policy in policies:
		policy["category_bounds"] = bounds.get(policy.category)
	return [dict(policy) for policy in policies]


def specificity(policy: dict) -> tuple:
	"""Sort key of a matching rule: more conditions first; then the deeper category (a rule on a
	child category beats one on its parent); then stage, category, severity and kind, in that order."""
	conditions = ("workflow_state", "category", "severity", "kind")
	lft = policy["category_bounds"][0] if policy.get("category_bounds") else 0
	return (
		sum(1 for field in conditions if policy.get(field)),
		lft,
		*(bool(policy.get(f)) for f in conditions),
	)


def match_policy(case, policies: list[dict] | None = None) -> dict | None:
	"""The most specific enabled rule matching the case's kind, category (or an ancestor), severity and stage."""
	policies = get_policies() if policies is None else policies
	category_bounds = None
	if case.get("category"):
		category_bounds = frappe.db.get_value("Grievance Category", case.get("category"), ["lft", "rgt"])
	candidates = []
	for policy in policies:
		if any(policy.get(f) and policy[f] != case.get(f) for f in ("kind", "severity", "workflow_state")):
			continue
		if policy.get("category"):
			bounds = policy.get("category_bounds")
			if not (category_bounds and bounds and bounds[0] <= category_bounds[0] <= bounds[1]):
				continue
		candidates.append(policy)
	return max(candidates, key=specificity, default=None)


def target_seconds(policy: dict, which: str) -> float:
	return flt(policy.get(f"{which}_target")) * UNIT_SECONDS[policy.get(f"{which}_unit") or "Working Days"]


def pausing_states() -> set[str]:
	settings = frappe.get_cached_doc(SETTINGS)
	return {row.workflow_state for row in settings.get("pausing_states") or []}


# ---------------------------------------------------------------------------------------------------
# The case
# ---------------------------------------------------------------------------------------------------


def update_deadlines(doc, now: datetime | None = None, policies: list[dict] | None = None):
	"""Set the case's deadline fields for this save (called from Grievance.validate); a batch passes the
	policies it read once."""
	now = get_datetime(now) if now else now_datetime()
	before = None if doc.is_new() else doc.get_doc_before_save()
	state, old_state = doc.get("workflow_state"), before.get("workflow_state") if before else None
	stage_changed = before is not None and state != old_state
	policy = match_policy(doc, policies)
	calendar = get_calendar(calendar_name_for(doc.owning_union, policy))

	if not doc.stage_since or stage_changed:
		doc.stage_since = now if before else doc.received_on or now
	# the overdue job's own escalation moves the case on, but nobody has answered the worker
	answered = (stage_changed and old_state and not frappe.flags.escalated_as_overdue) or doc.status != OPEN
	if before and not doc.responded_on and answered:
		doc.responded_on = now

	resumed = False
	if state and state in pausing_states():
		if not doc.clock_paused_since:
			doc.clock_paused_since = now
	elif doc.clock_paused_since:
		doc.paused_seconds = flt(doc.paused_seconds) + calendar.working_seconds(doc.clock_paused_since, now)
		doc.clock_paused_since = None
		resumed = True

	if before is None or resumed or any(doc.has_value_changed(f) for f in POLICY_FIELDS):
		set_due_dates(doc, policy, calendar)
	set_next_due(doc, now)


def set_due_dates(doc, policy: dict | None, calendar: WorkingCalendar):
	"""Due dates from the rule: from arrival plus paused time, or from entering the rule's stage."""
	if not policy:
		doc.response_due_on = doc.resolution_due_on = None
		return
	received, paused = doc.received_on or now_datetime(), flt(doc.paused_seconds)
	# once answered, the response deadline is history (unless the case arrived answered, e.g. imported)
	if not doc.responded_on or not doc.response_due_on:
		doc.response_due_on = calendar.add(received, target_seconds(policy, "response") + paused)
	if policy.get("workflow_state"):
		doc.resolution_due_on = calendar.add(doc.stage_since, target_seconds(policy, "resolution"))
	else:
		doc.resolution_due_on = calendar.add(received, target_seconds(policy, "resolution") + paused)


def set_next_due(doc, now: datetime):
	"""The earliest running deadline; a case whose next deadline lies ahead is not overdue."""
	due = []
	if doc.status == OPEN and not doc.clock_paused_since:
		if doc.response_due_on and not doc.responded_on:
			due.append(get_datetime(doc.response_due_on))
		if doc.resolution_due_on:
			due.append(get_datetime(doc.resolution_due_on))
	doc.next_due_on = min(due) if due else None
	if not doc.next_due_on or doc.next_due_on > now:
		doc.is_overdue, doc.overdue_since = 0, None


DEADLINE_FIELDS = (
	"response_due_on",
	"resolution_due_on",
	"responded_on",
	"stage_since",
	"clock_paused_since",
	"paused_seconds",
	"next_due_on",
	"is_overdue",
	"overdue_since",
)


def fill_open_case_deadlines():
	"""Deadlines for open cases that arrived before deadlines existed (derived data: `modified` stays)."""
	names = frappe.get_all(
		"Grievance",
		filters={"status": OPEN, "stage_since": ("is", "not set")},
		pluck="name",
		order_by="received_on",
	)
	now = now_datetime()
	policies = get_policies()
	for name in names:
		doc = frappe.get_doc("Grievance", name)
		update_deadlines(doc, policies=policies)
		values = {field: doc.get(field) for field in DEADLINE_FIELDS}
		if doc.next_due_on and get_datetime(doc.next_due_on) <= now:
			# a backlog already late on upgrade shows as overdue, without a storm of alerts for it
			values.update({"is_overdue": 1, "overdue_since": doc.next_due_on})
		frappe.db.set_value("Grievance", name, values, update_modified=False)


# ---------------------------------------------------------------------------------------------------
# Defaults (insert-if-missing: after_install and a patch)
# ---------------------------------------------------------------------------------------------------

DEFAULT_CALENDAR = "Indonesia (Monday to Friday)"
# UU 2/2004 gives bipartite negotiation 30 working days; critical cases get a day to answer.
DEFAULT_POLICIES = (
	{"policy_name": "Default", "response_target": 3, "resolution_target": 30},
	{"policy_name": "High Severity", "severity": "High", "response_target": 2, "resolution_target": 20},
	{
		"policy_name": "Critical Severity",
		"severity": "Critical",
		"response_target": 24,
		"response_unit": "Working Hours",
		"resolution_target": 10,
		"overdue_action": "Escalate",
	},
	{"policy_name": "Aspiration", "kind": "Aspiration", "response_target": 5, "resolution_target": 60},
)


def make_default_deadline_records():
	"""The default calendar, rules, pausing states and settings, each only where missing."""
	if not frappe.db.exists(CALENDAR, DEFAULT_CALENDAR):
		frappe.get_doc({"doctype": CALENDAR, "calendar_name": DEFAULT_CALENDAR}).insert(
			ignore_permissions=True
		)
	for policy in DEFAULT_POLICIES:
		if not frappe.db.exists(POLICY, policy["policy_name"]):
			frappe.get_doc({"doctype": POLICY, **policy}).insert(ignore_permissions=True)
	for state in DEFAULT_PAUSING_STATES:
		if not frappe.db.exists("Workflow State", state):
			frappe.get_doc(
				{"doctype": "Workflow State", "workflow_state_name": state, "style": "Warning"}
			).insert(ignore_permissions=True)
	settings = frappe.get_single(SETTINGS)
	if not settings.default_holiday_calendar and not settings.pausing_states:
		settings.default_holiday_calendar = DEFAULT_CALENDAR
		for state in DEFAULT_PAUSING_STATES:
			settings.append("pausing_states", {"workflow_state": state})
		settings.save(ignore_permissions=True)
