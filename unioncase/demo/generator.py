"""Deterministic demo data: a fictional Indonesian union confederation, its members and its cases.

Everything here is invented: the confederation, its federations, the companies (names built from common
Indonesian words), the international buyers and every person. Any resemblance is coincidental.

Shape of the data
- One confederation, three federations (garment/textile/footwear, palm oil/plantations, fisheries/seafood
  processing), one branch (DPC) per regency or city, and `workplace_unions` workplace unions (PUK), each
  with its own Employer. Members are spread over workplace unions by the employer's size.
- Cases arrive at a steady rate (`CASES_PER_DAY`, about 100 a day across the federation). Case 0 is the
  newest, received at the *anchor* (the moment the demo was first generated); case N is received about
  N / CASES_PER_DAY days before it. Asking for more cases therefore reaches further back in time.
- A case's chance of still being Open decays with its age, exp(-age_days / OPEN_DECAY_DAYS). The open
  backlog is then about CASES_PER_DAY * OPEN_DECAY_DAYS (~2,000) whether there are 10,000 or 1,000,000
  cases: a federation that has existed for decades carries a large closed history, not a larger backlog.
  That is how real case loads behave, and it is the assumption the scoped-list benchmark relies on.
- Case N is a pure function of (seed, N, anchor): growing from 10k to 1M cases keeps the first (newest)
  10k identical, and a top-up only inserts the cases that are missing.
- History older than two years (case N >= HISTORY_FROM, every one of them long closed) repeats the
  year before it: case N is case N - k * PERIOD (PERIOD = 52 weeks of arrivals) with every date
  k * 52 weeks earlier, so weekdays and working-day deadlines stay right. It is copied inside MariaDB
  (INSERT ... SELECT), which makes a million cases a matter of minutes, not of an hour of Python.
- About 80% of cases are owned by their workplace union, 15% by its branch and 5% by its federation.

Usage: `make_demo(cases=20000, members=5000, workplace_unions=300, seed=42)`, from Python, from
`frappe.call("unioncase.demo.generator.make_demo", ...)` or `bench execute`. Run it on a demo site:
records are inserted with precomputed names, and a row whose name already exists is skipped.
"""

import bisect
import itertools
import json
import math
import multiprocessing
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import date, datetime, timedelta

import frappe
from frappe import _
from frappe.utils import get_datetime, now_datetime

from unioncase.hierarchy.scope import LEVELS
from unioncase.intake.handle import TRACKING_PAGE
from unioncase.intake.tracking import ALPHABET as TRACKING_ALPHABET
from unioncase.intake.tracking import LENGTH as TRACKING_LENGTH
from unioncase.intake.tracking import code_hash
from unioncase.privacy.identity import IDENTITY_ROLE
from unioncase.workflows import deadlines
from unioncase.workflows.escalation import ESCALATED as ESCALATED_STAGE
from unioncase.workflows.escalation import ESCALATED_DIRECTION
from unioncase.workflows.install import definition

SETTINGS_KEY = "unioncase_demo_settings"
DEMO_DOMAIN = "demo.unioncase.org"
DEMO_PASSWORD = "demo-password-2026"
# Demo records are named apart from the naming series, so they never collide with real ones.
DEMO_PREFIX = "DEMO-"
CASES_PER_DAY = 100
OPEN_DECAY_DAYS = 20
CHUNK = 10_000
SMALL_CHUNK = 2_000
# Rows per INSERT statement: keeps each statement well under MariaDB's default 16 MB max_allowed_packet.
ROWS_PER_STATEMENT = 2_000
# From this many cases on, rows are generated in a separate process (see _case_pool).
PROCESS_THRESHOLD = 100_000
EPOCH = datetime(1970, 1, 1)
# Cases older than two years are copies of the year before them (CaseFactory.history_from).
HISTORY_SHIFT_DAYS = 364
# Members' ages and join dates are relative to this year, so the plan does not depend on the clock.
REFERENCE_YEAR = 2026

# The invented world (places, companies, buyers, names, case texts) is data, in demo_data.json:
# FEDERATIONS: each federation's branches as (place, province, region, BPS regency code, relative
#   number of workplace unions); COMPANY_*: words company names are built from ("PT <first> <second>
#   <sector word>"); BUYERS: (name, country, relationship); NAMES: (female, male, surnames or second
#   names) per naming tradition, NAME_MIX: traditions by province as (tradition, weight);
#   GROUP_WEIGHTS: category groups' weights per federation (garment, plantation, fisheries);
#   CATEGORY_TEXT: per category (gravity 0-2, share of collective cases, subjects, description
#   openings), a "garment:"/"plantation:"/"fisheries:" prefix restricting a subject to a federation;
#   ASPIRATIONS: (subject, category, description).
with open(os.path.join(os.path.dirname(__file__), "demo_data.json"), encoding="utf-8") as _data_file:
	_DATA = json.load(_data_file)
CONFEDERATION = _DATA["CONFEDERATION"]
FEDERATIONS = _DATA["FEDERATIONS"]
COMPANY_FIRST = _DATA["COMPANY_FIRST"]
COMPANY_SECOND = _DATA["COMPANY_SECOND"]
COMPANY_SECTOR_WORDS = _DATA["COMPANY_SECTOR_WORDS"]
WORKERS_RANGE = _DATA["WORKERS_RANGE"]
FEMALE_SHARE = _DATA["FEMALE_SHARE"]
BUYERS = _DATA["BUYERS"]
DEPARTMENTS = _DATA["DEPARTMENTS"]
NAMES = _DATA["NAMES"]
NAME_MIX = _DATA["NAME_MIX"]
MOBILE_PREFIXES = _DATA["MOBILE_PREFIXES"]
MONTHS = _DATA["MONTHS"]
GROUP_WEIGHTS = _DATA["GROUP_WEIGHTS"]
CATEGORY_TEXT = _DATA["CATEGORY_TEXT"]
ASPIRATIONS = _DATA["ASPIRATIONS"]
CONTEXT_SENTENCES = _DATA["CONTEXT_SENTENCES"]
REQUEST_SENTENCES = _DATA["REQUEST_SENTENCES"]
CHANNEL_SENTENCES = _DATA["CHANNEL_SENTENCES"]
REMEDIES = _DATA["REMEDIES"]
CLOSURE_NOTES = _DATA["CLOSURE_NOTES"]
CLOSED_REMEDIES = _DATA["CLOSED_REMEDIES"]
REJECTION_NOTES = _DATA["REJECTION_NOTES"]
ESCALATION_REASONS = _DATA["ESCALATION_REASONS"]
OPEN_STAGE_WEIGHTS = _DATA["OPEN_STAGE_WEIGHTS"]
# Of the cases a branch or federation owns, the share that came up the tree by escalation.
ESCALATED_SHARE = 0.6
# Of escalated open cases, the share still waiting for the higher union to accept them.
AWAITING_ACCEPTANCE = 0.35
# Named reporters whose case is confidential: more often for harassment and discrimination.
CONFIDENTIAL_SHARE = {"Harassment and Violence": 0.25, "Discrimination": 0.25}
CONFIDENTIAL_DEFAULT_SHARE = 0.02
# Anonymous reports since WhatsApp spread mostly come in on the union's WhatsApp hotline.
ANONYMOUS_WHATSAPP_SHARE = 0.6
ANONYMOUS_WHATSAPP_SINCE = 2012
SURNAME_TRADITIONS = {"batak", "minahasa", "ntt", "bali"}
SECTOR_INDEX = {"garment": 0, "plantation": 1, "fisheries": 2}

# fmt: off
# Channel weights per era: (from year, weights in CHANNELS order).
CHANNELS = ("Web", "Email", "WhatsApp", "SMS", "Social Media", "Walk-in", "Phone", "Other")
CHANNEL_ERAS = (
	(0, (2, 4, 0, 22, 0, 45, 20, 7)),
	(2012, (6, 6, 10, 16, 4, 36, 16, 6)),
	(2016, (10, 5, 30, 6, 8, 26, 10, 5)),
	(2020, (12, 5, 38, 3, 10, 20, 8, 4)),
)
SEVERITIES = ("Low", "Medium", "High", "Critical")
SEVERITY_WEIGHTS = ((35, 45, 17, 3), (15, 45, 32, 8), (3, 25, 45, 27))
# Arrivals per hour of the day (local time): offices open 08:00-17:00, WhatsApp keeps evenings busy.
HOURLY_PROFILE = (1, 1, 1, 1, 1, 2, 4, 7, 10, 10, 10, 10, 8, 10, 10, 10, 9, 7, 6, 6, 5, 4, 2, 1)

DEMO_CONSENT_TEXT = "v1-id"  # installed by unioncase.privacy.consent.make_default_consent_texts
GRIEVANCE_FIELDS = (
	"name", "creation", "modified", "modified_by", "owner", "docstatus", "idx", "kind", "subject", "status",
	"severity", "owning_union", "workplace_union", "employer", "channel", "category", "workers_affected",
	"description", "incident_date", "received_on", "resolved_on", "reporter_type", "is_anonymous",
	"member", "reporter_name", "reporter_phone", "reporter_email", "reporter_gender", "outcome", "remedy",
	"back_pay_recovered", "workers_benefited", "satisfaction_rating", "closure_notes", "branch", "federation",
	"confederation", "consent_given", "consent_text_version", "consent_given_on",
	"response_due_on", "resolution_due_on", "responded_on", "stage_since", "next_due_on",
	"is_overdue", "overdue_since", "workflow_state", "owning_level", "originating_union",
	"escalated_from", "is_confidential", "clock_paused_since",
)
CHILD_FIELDS = ("name", "creation", "modified", "modified_by", "owner", "docstatus", "idx", "parent", "parentfield", "parenttype")
# The hops of an escalated case (workflows/escalation.py record_hop)
ESCALATION_FIELDS = (*CHILD_FIELDS, "direction", "from_union", "to_union", "moved_by", "moved_on", "reason")
# The Identity Custodians named on a confidential case, and its sealed reporter (privacy/confidential.py)
CUSTODIAN_FIELDS = (*CHILD_FIELDS, "user")
SEALED_FIELDS = (
	"name", "creation", "modified", "modified_by", "owner", "docstatus", "idx", "grievance", "member",
	"reporter_name", "reporter_phone", "reporter_email",
)
# An anonymous worker's pseudonymous handle (intake/handle.py): the tracking code's hash, no address
HANDLE_FIELDS = (
	"name", "creation", "modified", "modified_by", "owner", "docstatus", "idx", "grievance", "address_kind",
	"unreachable", "tracking_code_hash",
)
# The extra tables a case writes, in the order they are inserted: (doctype, fields)
CASE_TABLES = (
	("Grievance Escalation", ESCALATION_FIELDS),
	("Grievance Identity Custodian", CUSTODIAN_FIELDS),
	("Confidential Identity", SEALED_FIELDS),
	("Contact Handle", HANDLE_FIELDS),
)
TAG_LINK_FIELDS = (
	"name", "creation", "modified", "modified_by", "owner", "docstatus", "idx", "parent", "parentfield",
	"parenttype", "tag",
)
MEMBER_FIELDS = (
	"name", "creation", "modified", "modified_by", "owner", "docstatus", "idx", "full_name", "member_number",
	"workplace_union", "status", "gender", "date_of_birth", "join_date", "phone", "email", "national_id",
	"consent_given", "consent_text_version", "consent_given_on",
)
# fmt: on

MASK64 = (1 << 64) - 1


def _mix(*parts: int) -> int:
	"""splitmix64 over the parts: a stable, well-spread integer seed (Python's hash() is salted per run)."""
	x = 0x9E3779B97F4A7C15
	for part in parts:
		x = (x ^ (part & MASK64)) & MASK64
		x = (x + 0x9E3779B97F4A7C15) & MASK64
		x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
		x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
		x ^= x >> 31
	return x


def _rupiah(amount: int) -> str:
	return "Rp" + f"{amount:,}".replace(",", ".")


def _weighted(rng: random.Random, pairs):
	total = sum(weight for _value, weight in pairs)
	pick = rng.random() * total
	for value, weight in pairs:
		pick -= weight
		if pick < 0:
			return value
	return pairs[-1][0]


def _person_name(rng: random.Random, province: str, female: bool) -> str:
	tradition = _weighted(rng, NAME_MIX.get(province, (("jawa", 1),)))
	female_names, male_names, others = NAMES[tradition]
	given = rng.choice(female_names if female else male_names)
	if tradition in SURNAME_TRADITIONS:
		return f"{given} {rng.choice(others)}"
	roll = rng.random()
	if roll < 0.3:
		return given
	if roll < 0.85:
		return f"{given} {rng.choice(others)}"
	return f"{given} {rng.choice(female_names if female else male_names)} {rng.choice(others)}"


def _phone(rng: random.Random) -> str:
	# E.164, as the app stores numbers (unioncase/intake/phone.py)
	return f"+62{rng.choice(MOBILE_PREFIXES)}{rng.randint(1000000, 99999999):08d}"


def _email(rng: random.Random, full_name: str) -> str:
	local = ".".join(full_name.lower().replace("'", "").split()[-2:])
	return f"{local}{rng.randint(1, 99)}@example.com"


# ---------------------------------------------------------------------------------------------------
# The plan: the tree, employers and members, all derived from the seed alone
# ---------------------------------------------------------------------------------------------------


def _allocate(total: int, weights: list[float]) -> list[int]:
	"""Split `total` in proportion to `weights` (largest remainder), deterministically."""
	scale = sum(weights)
	exact = [total * w / scale for w in weights]
	counts = [int(x) for x in exact]
	by_remainder = sorted(range(len(weights)), key=lambda i: (counts[i] - exact[i], i))
	for i in by_remainder[: total - sum(counts)]:
		counts[i] += 1
	return counts


def build_plan(seed: int, workplace_unions: int, members: int) -> dict:
	"""The demo tree, employers and members as plain dicts; a pure function of the arguments."""
	rng = random.Random(_mix(seed, 0xC0FFEE))
	confed = {
		"union_name": CONFEDERATION["name"],
		"union_abbreviation": CONFEDERATION["abbr"],
		"level": "Confederation",
		"parent_union": None,
		"is_group": 1,
		"province": CONFEDERATION["province"],
		"region": CONFEDERATION["region"],
	}
	federations, branches, workplaces = [], [], []
	per_federation = _allocate(workplace_unions, [fed["share"] for fed in FEDERATIONS])
	used_names = set()
	for fed, fed_count in zip(FEDERATIONS, per_federation, strict=True):
		federations.append(
			{
				"union_name": fed["name"],
				"union_abbreviation": fed["abbr"],
				"level": "Federation",
				"parent_union": confed["union_name"],
				"is_group": 1,
				"sector": fed["sector"],
				"province": CONFEDERATION["province"],
				"region": CONFEDERATION["region"],
				"key": fed["key"],
			}
		)
		per_branch = _allocate(fed_count, [b[4] for b in fed["branches"]])
		# The first branch (e.g. Bogor) always has a workplace union, so every demo official has one.
		if fed_count and not per_branch[0]:
			largest = per_branch.index(max(per_branch))
			per_branch[largest] -= 1
			per_branch[0] += 1
		for (place, province, region, code, _size), count in zip(fed["branches"], per_branch, strict=True):
			branch = {
				"union_name": f"DPC {fed['abbr']} {place}",
				"union_abbreviation": f"DPC {fed['abbr']} {code}",
				"level": "Branch",
				"parent_union": fed["name"],
				"is_group": 1,
				"sector": fed["sector"],
				"province": province,
				"region": region,
				"key": fed["key"],
				"place": place,
				"code": code,
			}
			branches.append(branch)
			for _i in range(count):
				workplaces.append(_plan_workplace(rng, fed, branch, used_names))

	plan = {"confederation": confed, "federations": federations, "branches": branches}
	plan["workplaces"] = workplaces
	plan["members"] = _plan_members(seed, workplaces, members)
	return plan


def _plan_workplace(rng: random.Random, fed: dict, branch: dict, used_names: set) -> dict:
	key = fed["key"]
	for attempt in range(50):
		words = (rng.choice(COMPANY_FIRST), rng.choice(COMPANY_SECOND), rng.choice(COMPANY_SECTOR_WORDS[key]))
		company = "PT " + " ".join(words)
		if attempt > 20:
			company += f" {branch['code']}"
		if company not in used_names:
			break
	used_names.add(company)
	low, high = WORKERS_RANGE[key]
	# Log-uniform: many mid-sized factories and estates, a few very large ones.
	workers = int(round(math.exp(rng.uniform(math.log(low), math.log(high))), -1))
	brand_share = {"garment": 0.45, "plantation": 0.3, "fisheries": 0.35}[key]
	brands = []
	if rng.random() < brand_share:
		for name, country, relationship in rng.sample(BUYERS[key], rng.randint(1, 3)):
			brands.append({"brand_name": name, "relationship": relationship, "country": country})
	city = branch["place"].replace("Kabupaten ", "").replace("Kota ", "")
	return {
		"union_name": f"PUK {fed['abbr']} {company}",
		"union_abbreviation": f"PUK {''.join(w[0] for w in company.split()[1:])}",
		"level": "Workplace Union",
		"parent_union": branch["union_name"],
		"federation": fed["name"],
		"is_group": 0,
		"sector": fed["sector"],
		"province": branch["province"],
		"region": branch["region"],
		"key": key,
		"place": branch["place"],
		"code": branch["code"],
		# Some workplaces file far more cases than their size suggests (an active PUK, a bad employer).
		"activity": workers**0.6 * math.exp(rng.gauss(0, 0.6)),
		"employer": {
			"employer_name": company,
			"sector": fed["sector"],
			"province": branch["province"],
			"city": city,
			"workers_count": workers,
			"brands": brands,
		},
	}


def _plan_members(seed: int, workplaces: list[dict], count: int) -> list[dict]:
	rng = random.Random(_mix(seed, 0xBEEF))
	if not workplaces:
		return []
	cum = []
	total = 0.0
	for wp in workplaces:
		total += wp["employer"]["workers_count"]
		cum.append(total)
	members = []
	for i in range(count):
		wp = workplaces[bisect.bisect_right(cum, rng.random() * total) if cum else 0]
		female = rng.random() < FEMALE_SHARE[wp["key"]]
		full_name = _person_name(rng, wp["province"], female)
		age = rng.randint(19, 56)
		dob = date(REFERENCE_YEAR - age, rng.randint(1, 12), rng.randint(1, 28))
		joined = date(
			rng.randint(max(dob.year + 18, 2006), REFERENCE_YEAR - 1), rng.randint(1, 12), rng.randint(1, 28)
		)
		status = _weighted(rng, (("Active", 88), ("Inactive", 5), ("Resigned", 6), ("Deceased", 1)))
		nik_day = dob.day + (40 if female else 0)
		members.append(
			{
				"name": f"{DEMO_PREFIX}MBR-{i + 1:07d}",
				"full_name": full_name,
				"member_number": f"{wp['code']}.{i + 1:06d}",
				"workplace_union": wp["union_name"],
				"status": status,
				"gender": "Female" if female else "Male",
				"date_of_birth": dob,
				"join_date": joined,
				"phone": _phone(rng) if rng.random() < 0.85 else None,
				"email": _email(rng, full_name) if rng.random() < 0.25 else None,
				"national_id": f"{wp['code']}{rng.randint(1, 30):02d}{nik_day:02d}{dob.month:02d}{dob.year % 100:02d}{rng.randint(1, 999):04d}",
				"consent_given": 1 if rng.random() < 0.92 else 0,
			}
		)
	return members


# ---------------------------------------------------------------------------------------------------
# Cases: case N is a pure function of (seed, N, anchor)
# ---------------------------------------------------------------------------------------------------


class CaseFactory:
	"""Builds Grievance rows; `row(n)` depends only on the seed, the plan, the anchor and n."""

	def __init__(self, plan: dict, seed: int, anchor: datetime, tags: set[str], per_day: int = CASES_PER_DAY):
		self.seed = seed
		self.anchor = anchor
		self.anchor_s = (anchor - EPOCH).total_seconds()
		self.spacing = 86400.0 / per_day
		# Older history repeats the year before it (see _copy_history): 52 weeks keep the weekdays.
		self.period = per_day * HISTORY_SHIFT_DAYS
		self.history_from = 2 * self.period
		self.tags = tags
		self._year_start_index = {}

		self.confederation = plan["confederation"]["union_name"]
		branch_federation = {b["union_name"]: b["parent_union"] for b in plan["branches"]}
		members_by_union = {}
		for member in plan["members"]:
			members_by_union.setdefault(member["workplace_union"], []).append(member)
		self.workplaces = []
		self.workplace_cum = []
		total = 0.0
		for wp in plan["workplaces"]:
			total += wp["activity"]
			self.workplace_cum.append(total)
			self.workplaces.append(
				(wp, branch_federation[wp["parent_union"]], members_by_union.get(wp["union_name"], []))
			)
		self.workplace_total = total

		hour_total = sum(HOURLY_PROFILE)
		self.hour_cum = []
		acc = 0.0
		for weight in HOURLY_PROFILE:
			self.hour_cum.append(acc / hour_total)
			acc += weight
		self.hour_cum.append(1.0)

		self.categories = {}
		for key, index in SECTOR_INDEX.items():
			pairs = []
			leaves_by_group = _category_leaves()
			for group, weights in GROUP_WEIGHTS.items():
				leaves = leaves_by_group.get(group) or [group]
				for leaf in leaves:
					subjects = _subjects_for(leaf, key)
					pairs.append(((leaf, group, subjects), weights[index] / len(leaves)))
			cum, acc = [], 0.0
			for _pair, weight in pairs:
				acc += weight
				cum.append(acc)
			self.categories[key] = ([p for p, _w in pairs], cum, acc)
		self.group_of = {leaf: group for group, leaves in _category_leaves().items() for leaf in leaves}
		self.calendar = deadlines.WorkingCalendar(weekly_offs=(5, 6))
		policies = [{**policy, "category_bounds": None} for policy in deadlines.DEFAULT_POLICIES]
		self.targets = {}
		for kind in ("Complaint", "Aspiration"):
			for severity in SEVERITIES:
				policy = deadlines.match_policy(frappe._dict(kind=kind, severity=severity), policies)
				self.targets[(kind, severity)] = (
					deadlines.target_seconds(policy, "response"),
					deadlines.target_seconds(policy, "resolution"),
				)
		for group in GROUP_WEIGHTS:
			self.group_of.setdefault(group, group)
		self.stage_of_status = {}
		for state in definition()["states"]:
			self.stage_of_status.setdefault(state["status"], state["state"])
		self.open_stages = {level: tuple(map(tuple, pairs)) for level, pairs in OPEN_STAGE_WEIGHTS.items()}
		self.pausing = set(deadlines.DEFAULT_PAUSING_STATES)
		# Confidential cases name the confederation's custodian, and the branch's where it has one.
		self.custodian_of = {
			user["union"]: user["email"]
			for user in demo_users(plan)
			if user.get("extra_role") == IDENTITY_ROLE and user["role"] != "Confederation Official"
		}
		self.top_custodians = [
			user["email"]
			for user in demo_users(plan)
			if user.get("extra_role") == IDENTITY_ROLE and user["role"] == "Confederation Official"
		]

	def _received_seconds(self, n: int) -> float:
		"""Seconds since EPOCH (naive local time) at which case n was received; non-increasing in n."""
		u = (_mix(self.seed, n, 0x71AE) >> 11) / float(1 << 53)
		t = self.anchor_s - (n + u) * self.spacing
		day, frac = divmod(t, 86400.0)
		# Spread arrivals over the day by the hourly profile (inverse CDF): monotonic, so order by n is kept.
		frac /= 86400.0
		hour = min(bisect.bisect_right(self.hour_cum, frac) - 1, 23)
		span = self.hour_cum[hour + 1] - self.hour_cum[hour]
		local = (hour + (frac - self.hour_cum[hour]) / span) / 24
		return min(day * 86400.0 + local * 86400.0, self.anchor_s)

	def _year_first_index(self, year: int) -> int:
		"""The largest n still received in `year` (the year's first case); its number is 1."""
		if year not in self._year_start_index:
			start = (datetime(year, 1, 1) - EPOCH).total_seconds()
			lo, hi = 0, int((self.anchor_s - start) / self.spacing) + 2
			while lo < hi:
				mid = (lo + hi + 1) // 2
				if self._received_seconds(mid) >= start:
					lo = mid
				else:
					hi = mid - 1
			self._year_start_index[year] = lo
		return self._year_start_index[year]

	def name_of(self, n: int) -> str:
		received = EPOCH + timedelta(seconds=self._received_seconds(n))
		return f"{DEMO_PREFIX}GRV-{received.year}-{self._year_first_index(received.year) - n + 1:07d}"

	def row(self, n: int):
		"""The case's Grievance row (GRIEVANCE_FIELDS) and its tags."""
		row, tags, _extras = self.case(n)
		return row, tags

	def case(self, n: int):
		"""Row, tags and the case's rows in other tables ({doctype: [rows in CASE_TABLES' fields]})."""
		rng = random.Random(_mix(self.seed, n, 0xCA5E))
		# A second stream for what came later (stages, escalations, confidentiality, handles), so the
		# rest of a case is the one earlier versions generated.
		extra = random.Random(_mix(self.seed, n, 0xE5CA))
		received_s = self._received_seconds(n)
		received = EPOCH + timedelta(seconds=received_s)
		name = self.name_of(n)
		age_days = (self.anchor_s - received_s) / 86400.0

		wp, federation, members = self.workplaces[
			bisect.bisect_right(self.workplace_cum, rng.random() * self.workplace_total)
		]
		key = wp["key"]
		employer = wp["employer"]
		roll = rng.random()
		owning_level = 0 if roll < 0.80 else (1 if roll < 0.95 else 2)
		owning = (wp["union_name"], wp["parent_union"], federation)[owning_level]
		# Cases a branch or federation owns mostly came up the tree: the unions they passed through.
		chain = [owning]
		if owning_level and extra.random() < ESCALATED_SHARE:
			start = 0 if owning_level == 1 or extra.random() < 0.5 else 1
			chain = [wp["union_name"], wp["parent_union"], federation][start : owning_level + 1]
		originating = chain[0]

		department = rng.choice(DEPARTMENTS[key])
		if rng.random() < 0.12:
			kind = "Aspiration"
			subject, category, lead = rng.choice(ASPIRATIONS)
			gravity, spread = 0, 0.8
		else:
			kind = "Complaint"
			entries, cum, total = self.categories[key]
			category, _group, subjects = entries[bisect.bisect_right(cum, rng.random() * total)]
			gravity, spread, _all_subjects, leads = CATEGORY_TEXT[category]
			subject = rng.choice(subjects)
			lead = rng.choice(leads)
		group = self.group_of.get(category, "Other Grievances")

		severity = _weighted(rng, tuple(zip(SEVERITIES, SEVERITY_WEIGHTS[gravity], strict=True)))
		if kind == "Aspiration":
			severity = "Low" if rng.random() < 0.7 else "Medium"
		elif owning_level and rng.random() < 0.5 and severity != "Critical":
			# Escalated cases tend to be the serious ones.
			severity = SEVERITIES[SEVERITIES.index(severity) + 1]

		year = received.year
		channel_weights = CHANNEL_ERAS[0][1]
		for since, weights in CHANNEL_ERAS:
			if year >= since:
				channel_weights = weights
		channel = _weighted(rng, tuple(zip(CHANNELS, channel_weights, strict=True)))

		workers_count = employer["workers_count"]
		if rng.random() < spread:
			workers_affected = min(
				workers_count, int(math.exp(rng.uniform(math.log(5), math.log(workers_count))))
			)
		else:
			workers_affected = 1 if rng.random() < 0.75 else rng.randint(2, 5)

		incident = (received - timedelta(days=int(rng.expovariate(1 / 12)))).date()
		values = {
			"bulan": MONTHS[(received.month - 2) % 12],
			"bagian": department,
			"n": workers_affected,
			"employer": employer["employer_name"],
			"tempat": wp["place"],
			"tahun": year,
			"hari": rng.randint(5, 40),
			"jam": rng.randint(11, 16),
			"insiden": f"{incident.day} {MONTHS[incident.month - 1]} {incident.year}",
			"bulan_hamil": rng.randint(3, 7),
			"umur_anak": rng.randint(12, 16),
		}
		subject = subject.format(**values)

		# Reporter: a member of the workplace union, a non-member, or anonymous.
		roll = rng.random()
		member = reporter_name = reporter_phone = reporter_email = reporter_gender = None
		is_anonymous = 0
		if roll < 0.08:
			reporter_type, is_anonymous = "Non-member", 1
			female = rng.random() < FEMALE_SHARE[key]
		elif roll < 0.78 and members and (chosen := rng.choice(members))["join_date"] <= received.date():
			reporter_type = "Member"
			member = chosen["name"]
			female = chosen["gender"] == "Female"
		else:
			reporter_type = "Non-member"
			female = rng.random() < FEMALE_SHARE[key]
			reporter_name = _person_name(rng, wp["province"], female)
			reporter_phone = _phone(rng) if rng.random() < 0.9 else None
			reporter_email = _email(rng, reporter_name) if rng.random() < 0.15 else None
			reporter_gender = "Female" if female else "Male"
		if is_anonymous and year >= ANONYMOUS_WHATSAPP_SINCE and extra.random() < ANONYMOUS_WHATSAPP_SHARE:
			channel = "WhatsApp"
		named = bool(member or reporter_name)

		sentences = [
			CHANNEL_SENTENCES[channel],
			lead,
			*rng.sample(CONTEXT_SENTENCES, 2),
			rng.choice(REQUEST_SENTENCES),
		]
		if is_anonymous:
			sentences.append("Pelapor meminta identitasnya dirahasiakan.")
		description = "<p>" + " ".join(s.format(**values) for s in sentences) + "</p>"

		creation = received + timedelta(minutes=rng.randint(2, 240), microseconds=rng.randint(0, 999999))
		anchor = self.anchor
		if creation > anchor:
			creation = anchor

		resolved_on = outcome = remedy = closure_notes = None
		back_pay = 0
		benefited = 0
		rating = 0
		if rng.random() < math.exp(-age_days / OPEN_DECAY_DAYS):
			status = "Open"
			modified = creation + (anchor - creation) * rng.random()
		else:
			# Time to close, drawn from the same exponential law truncated to the case's age.
			v = rng.random()
			took = -OPEN_DECAY_DAYS * math.log(1 - v * (1 - math.exp(-age_days / OPEN_DECAY_DAYS)))
			status = _weighted(rng, (("Resolved", 62), ("Closed", 26), ("Rejected", 12)))
			if status == "Rejected":
				took *= 0.3
			closed_at = received + timedelta(days=took)
			if closed_at < creation:
				closed_at = creation
			resolved_on = closed_at.date()
			when = f"{resolved_on.day} {MONTHS[resolved_on.month - 1]} {resolved_on.year}"
			if status == "Resolved":
				outcome = "Resolved in Favour of Worker" if rng.random() < 0.6 else "Partially Resolved"
				full = outcome == "Resolved in Favour of Worker"
				benefited = workers_affected if full else max(1, workers_affected // 2)
				if group == "Wages and Benefits":
					back_pay = benefited * rng.randint(50, 1500) * 10_000
				remedy = rng.choice(REMEDIES.get(group, REMEDIES["Other Grievances"]))
				if not full:
					remedy += " Sebagian tuntutan lain belum dipenuhi."
				remedy = remedy.format(uang=_rupiah(back_pay), w=benefited)
				if rng.random() < 0.7:
					rating = rng.choice((0.6, 0.8, 0.8, 1.0, 1.0) if full else (0.4, 0.6, 0.6, 0.8))
			elif status == "Closed":
				outcome = _weighted(rng, (("Withdrawn", 30), ("Referred", 35), ("Not Resolved", 35)))
				remedy = CLOSED_REMEDIES[outcome]
				if rng.random() < 0.4:
					rating = rng.choice((0.2, 0.4, 0.4, 0.6))
			else:
				# Only resolved and closed cases carry a resolution date (unioncase.workflows.status).
				resolved_on = None
			if outcome:
				closure_notes = CLOSURE_NOTES[outcome].format(tanggal=when, tempat=wp["place"])
			else:
				closure_notes = rng.choice(REJECTION_NOTES)
			modified = closed_at + timedelta(hours=rng.random() * 24)
			if modified > anchor:
				modified = anchor

		tags = []
		if self.tags:
			if workers_affected >= 20:
				tags.append("Collective Case")
			if group in ("Harassment and Violence", "Discrimination") or category == "Maternity Leave":
				tags.append("Women Workers")
			if key == "fisheries" and group == "Forced and Child Labour" and rng.random() < 0.6:
				tags.append("Migrant Workers")
			if severity == "Critical" and rng.random() < 0.7:
				tags.append("Urgent")
			if rng.random() < (0.1 if severity == "Critical" else 0.01):
				tags.append("Media Attention")
			if employer["brands"] and severity in ("High", "Critical") and rng.random() < 0.3:
				tags.append("Brand Engaged")
			tags = [tag for tag in tags if tag in self.tags]

		# Escalation hops, between arrival and the last change, and the stage the case is in now.
		hops, moved_on = [], creation
		for lower, higher in itertools.pairwise(chain):
			moved_on = moved_on + (modified - moved_on) * (0.2 + 0.4 * extra.random())
			hops.append((lower, higher, moved_on, extra.choice(ESCALATION_REASONS)))
		escalated_at = hops[0][2] if hops else None
		deadline_values = list(self.deadlines(n, kind, severity, received, status, modified, escalated_at))
		responded = deadline_values[2]
		level = LEVELS[-1 - owning_level]
		stage_since, paused_since = received, None
		if status != "Open":
			stage = self.stage_of_status[status]
		elif hops and extra.random() < AWAITING_ACCEPTANCE:
			stage, stage_since = ESCALATED_STAGE, hops[-1][2]
		elif not responded:
			stage = self.stage_of_status[status]
		else:
			stage = _weighted(extra, self.open_stages[level])
			since = max(responded, hops[-1][2]) if hops else responded
			stage_since = since + (modified - since) * extra.random() if modified > since else since
		if stage in self.pausing:
			# the clock stops while the union waits (workflows/deadlines.py): nothing runs, nothing is overdue
			paused_since = stage_since
			deadline_values[4:7] = (None, 0, None)
		deadline_values[3] = stage_since

		# A named reporter of a confidential case is sealed away from the case (privacy/confidential.py).
		confidential = named and extra.random() < CONFIDENTIAL_SHARE.get(group, CONFIDENTIAL_DEFAULT_SHARE)
		sealed = None
		if confidential:
			sealed = (member, reporter_name, reporter_phone, reporter_email)
			member = reporter_name = reporter_phone = reporter_email = None
		handle_code = None
		if is_anonymous and channel == "WhatsApp":
			handle_code = "".join(extra.choice(TRACKING_ALPHABET) for _i in range(TRACKING_LENGTH))

		row = (
			name,
			creation,
			modified,
			"Administrator",
			"Administrator",
			0,
			0,
			kind,
			subject,
			status,
			severity,
			owning,
			wp["union_name"],
			employer["employer_name"],
			channel,
			category,
			workers_affected,
			description,
			incident,
			received,
			resolved_on,
			reporter_type,
			is_anonymous,
			member,
			reporter_name,
			reporter_phone,
			reporter_email,
			reporter_gender,
			outcome,
			remedy,
			back_pay,
			benefited,
			rating,
			closure_notes,
			# the ancestry columns the app derives from the owning union (see hierarchy/ancestry.py)
			wp["parent_union"] if owning_level < 2 or hops else None,
			federation,
			self.confederation,
			# a named reporter was read the consent text at intake (privacy/consent.py)
			*((1, DEMO_CONSENT_TEXT, received) if named else (0, None, None)),
			*deadline_values,
			# what Grievance.validate and the workflow set (workflows/stages.py, escalation.py): the stage,
			# the owning level, the bottom of the escalation chain and the union it last came from
			stage,
			level,
			originating,
			chain[-2] if hops else None,
			1 if confidential else 0,
			paused_since,
		)
		return row, tags, self._extras(name, creation, modified, hops, sealed, handle_code, wp)

	def _extras(self, name, creation, modified, hops, sealed, handle_code, wp) -> dict:
		admin = "Administrator"
		extras = {}
		if hops:
			extras["Grievance Escalation"] = [
				(
					f"{name}-E{idx}",
					moved_on,
					moved_on,
					admin,
					admin,
					0,
					idx,
					name,
					"escalations",
					"Grievance",
					ESCALATED_DIRECTION,
					lower,
					higher,
					admin,
					moved_on,
					reason,
				)
				for idx, (lower, higher, moved_on, reason) in enumerate(hops, 1)
			]
		if sealed:
			custodians = [*self.top_custodians]
			if wp["parent_union"] in self.custodian_of:
				custodians.append(self.custodian_of[wp["parent_union"]])
			extras["Grievance Identity Custodian"] = [
				(
					f"{name}-C{idx}",
					creation,
					creation,
					admin,
					admin,
					0,
					idx,
					name,
					"identity_custodians",
					"Grievance",
					user,
				)
				for idx, user in enumerate(custodians, 1)
			]
			extras["Confidential Identity"] = [(name, creation, creation, admin, admin, 0, 0, name, *sealed)]
		if handle_code:
			extras["Contact Handle"] = [
				(
					f"{name}-H",
					creation,
					creation,
					admin,
					admin,
					0,
					0,
					name,
					TRACKING_PAGE,
					0,
					code_hash(handle_code),
				)
			]
		return extras

	def deadlines(
		self,
		n: int,
		kind: str,
		severity: str,
		received: datetime,
		status: str,
		last: datetime,
		escalated_at: datetime | None = None,
	):
		"""Due dates from the shipped default policy (Monday to Friday); most cases answered in days.

		A separate random stream, so the rest of the case is the same as without deadlines. Escalating
		a case answers it (it leaves the stage it arrived in)."""
		rng = random.Random(_mix(self.seed, n, 0xD0E))
		response_target, resolution_target = self.targets[(kind, severity)]
		response_due = self.calendar.add(received, response_target)
		resolution_due = self.calendar.add(received, resolution_target)
		answered = received + timedelta(hours=rng.expovariate(1 / 30))
		responded = answered if answered <= last and (status != "Open" or rng.random() < 0.85) else None
		if escalated_at and (not responded or escalated_at < responded):
			responded = escalated_at
		next_due = None
		if status == "Open":
			next_due = min(resolution_due, response_due) if not responded else resolution_due
		overdue = next_due is not None and next_due <= self.anchor
		return (
			response_due,
			resolution_due,
			responded,
			received,
			next_due,
			int(overdue),
			next_due if overdue else None,
		)


def _subjects_for(category: str, key: str) -> list[str]:
	"""The category's subjects that fit federation `key` (unprefixed ones fit every federation)."""
	subjects = []
	for subject in CATEGORY_TEXT[category][2]:
		prefix, sep, rest = subject.partition(":")
		if not sep or prefix not in SECTOR_INDEX:
			subjects.append(subject)
		elif prefix == key:
			subjects.append(rest)
	return subjects


def _category_leaves() -> dict[str, list[str]]:
	"""Leaf categories per group, from the app's default data."""
	return {group: list(leaves) for group, leaves in _default_data()["grievance_categories"].items()}


def _default_data() -> dict:
	if not hasattr(_default_data, "cache"):
		with open(frappe.get_app_path("unioncase", "setup", "default_data.json")) as f:
			_default_data.cache = json.load(f)
	return _default_data.cache


# ---------------------------------------------------------------------------------------------------
# Writing to the database
# ---------------------------------------------------------------------------------------------------


def _progress(label: str, done: int, total: int, started: float):
	"""One self-overwriting stderr line; a plain line per step when stderr is not a terminal."""
	rate = done / max(time.perf_counter() - started, 1e-6)
	width = 30
	filled = int(width * done / max(total, 1))
	line = f"{label}: [{'=' * filled}{' ' * (width - filled)}] {done:,}/{total:,} ({rate:,.0f}/s)"
	if sys.stderr.isatty():
		sys.stderr.write("\r" + line + ("\n" if done >= total else ""))
	else:
		sys.stderr.write(line + "\n")
	sys.stderr.flush()


def _ensure_master_data():
	"""Sectors, categories and tags the generator relies on (after_install normally creates them)."""
	data = _default_data()
	for sector in data["union_sectors"]:
		if not frappe.db.exists("Union Sector", sector):
			frappe.get_doc({"doctype": "Union Sector", "sector_name": sector}).insert(ignore_permissions=True)
	root = "All Grievance Categories"
	if not frappe.db.exists("Grievance Category", root):
		frappe.get_doc({"doctype": "Grievance Category", "category_name": root, "is_group": 1}).insert(
			ignore_permissions=True
		)
	for group, leaves in data["grievance_categories"].items():
		if not frappe.db.exists("Grievance Category", group):
			frappe.get_doc(
				{
					"doctype": "Grievance Category",
					"category_name": group,
					"parent_grievance_category": root,
					"is_group": 1 if leaves else 0,
				}
			).insert(ignore_permissions=True)
		for leaf in leaves:
			if not frappe.db.exists("Grievance Category", leaf):
				frappe.get_doc(
					{
						"doctype": "Grievance Category",
						"category_name": leaf,
						"parent_grievance_category": group,
					}
				).insert(ignore_permissions=True)
	for tag in data["grievance_tags"]:
		if not frappe.db.exists("Grievance Tag", tag):
			frappe.get_doc({"doctype": "Grievance Tag", "tag_name": tag}).insert(ignore_permissions=True)
	frappe.db.commit()


def _union_doc(spec: dict) -> dict:
	fields = (
		"union_name",
		"union_abbreviation",
		"level",
		"parent_union",
		"is_group",
		"sector",
		"province",
		"region",
	)
	doc = {"doctype": "Union", **{f: spec.get(f) for f in fields}}
	if spec.get("employer"):
		doc["employer"] = spec["employer"]["employer_name"]
	return doc


def _insert_tree(plan: dict):
	"""Unions and employers with normal inserts (a few hundred), so controllers validate them."""
	started = time.perf_counter()
	specs = [plan["confederation"], *plan["federations"], *plan["branches"]]
	total = len(specs) + len(plan["workplaces"])
	done = 0
	for spec in specs:
		if not frappe.db.exists("Union", spec["union_name"]):
			frappe.get_doc(_union_doc(spec)).insert(ignore_permissions=True)
		done += 1
	for wp in plan["workplaces"]:
		employer = wp["employer"]
		if not frappe.db.exists("Employer", employer["employer_name"]):
			frappe.get_doc(
				{
					"doctype": "Employer",
					**{k: v for k, v in employer.items() if k != "brands"},
					"brands": [dict(brand) for brand in employer["brands"]],
				}
			).insert(ignore_permissions=True)
		if not frappe.db.exists("Union", wp["union_name"]):
			frappe.get_doc(_union_doc(wp)).insert(ignore_permissions=True)
		done += 1
		if done % 50 == 0 or done == total:
			_progress(_("Unions and employers"), done, total, started)
			frappe.db.commit()
	frappe.db.commit()


def _insert_members(plan: dict):
	started = time.perf_counter()
	members = plan["members"]
	columns = _table_columns("Union Member")
	fields = [f for f in MEMBER_FIELDS if f in columns]
	for start in range(0, len(members), CHUNK):
		rows = []
		for m in members[start : start + CHUNK]:
			joined = datetime.combine(m["join_date"], datetime.min.time()) + timedelta(hours=9)
			record = {
				**m,
				"creation": joined,
				"modified": joined,
				"modified_by": "Administrator",
				"owner": "Administrator",
				"docstatus": 0,
				"idx": 0,
				"consent_text_version": DEMO_CONSENT_TEXT if m["consent_given"] else None,
				"consent_given_on": joined if m["consent_given"] else None,
			}
			rows.append(tuple(record[f] for f in fields))
		frappe.db.bulk_insert(
			"Union Member", fields, rows, ignore_duplicates=True, chunk_size=ROWS_PER_STATEMENT
		)
		frappe.db.commit()
		_progress(_("Members"), min(start + CHUNK, len(members)), len(members), started)


def _table_columns(doctype: str) -> set[str]:
	return set(frappe.db.get_table_columns(doctype))


def _insert_rows(doctype: str, fields, rows):
	"""Multi-row INSERT IGNORE of precomputed rows, ROWS_PER_STATEMENT rows per statement.

	Same SQL as `frappe.db.bulk_insert(..., ignore_duplicates=True)`, but with driver-escaped %s
	placeholders: bulk_insert builds each statement with pypika at ~0.3 ms a row (2.9 s against 0.8 s
	per 10k cases, measured), which alone would take five minutes for a million cases.
	"""
	_insert_rows_into(f"`tab{doctype}`", fields, rows)


def _insert_rows_into(table: str, fields, rows):
	columns = ", ".join(f"`{field}`" for field in fields)
	placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
	for start in range(0, len(rows), ROWS_PER_STATEMENT):
		chunk = rows[start : start + ROWS_PER_STATEMENT]
		frappe.db.sql(
			f"insert ignore into {table} ({columns}) values " + ", ".join([placeholder] * len(chunk)),
			tuple(value for row in chunk for value in row),
		)


def _case_chunk(factory: CaseFactory, start: int, stop: int, keep: list[int] | None):
	"""Rows for cases start..stop-1, their tag rows and their rows in CASE_TABLES; touches no database,
	so it can run in a thread."""
	rows, tag_rows = [], []
	extra_rows = {doctype: [] for doctype, _fields in CASE_TABLES}
	for n in range(start, stop):
		row, tags, extras = factory.case(n)
		for doctype, table_rows in extras.items():
			extra_rows[doctype].extend(table_rows)
		rows.append(tuple(row[i] for i in keep) if keep else row)
		for idx, tag in enumerate(tags, 1):
			name, creation, modified = row[0], row[1], row[2]
			admin = "Administrator"
			tag_rows.append(
				(f"{name}-{idx}", creation, modified, admin, admin, 0, idx, name, "tags", "Grievance", tag)
			)
	return rows, tag_rows, extra_rows


_worker_factory = None


def _init_worker(factory: CaseFactory):
	global _worker_factory
	_worker_factory = factory


def _worker_chunk(start: int, stop: int, keep: list[int] | None):
	return _case_chunk(_worker_factory, start, stop, keep)


def _case_pool(factory: CaseFactory, count: int):
	"""Where chunks are generated: a forked process for large loads, so generating (CPU-bound Python)
	runs beside escaping and inserting instead of sharing the GIL with them; a thread otherwise.

	The forked worker only computes rows: it never touches the inherited database or Redis connections,
	and multiprocessing ends it with os._exit, so they are not closed under the parent.
	"""
	if count >= PROCESS_THRESHOLD and "fork" in multiprocessing.get_all_start_methods():
		context = multiprocessing.get_context("fork")
		return ProcessPoolExecutor(1, mp_context=context, initializer=_init_worker, initargs=(factory,))
	_init_worker(factory)
	return ThreadPoolExecutor(1)


def _insert_cases(factory: CaseFactory, first: int, last: int):
	"""Cases first..last-1: generated up to HISTORY_FROM, copied from the year before beyond it."""
	history_from = factory.history_from
	if first < min(last, history_from):
		_generate_cases(factory, first, min(last, history_from))
	if last > history_from:
		_copy_history(factory, max(first, history_from), last)


# The older history's template and shift, per chunk of cases (a plain table: DDL commits anyway).
HISTORY_MAP = "__unioncase_demo_history"
# Columns that move back with the copied case.
DATE_COLUMNS = {
	"creation", "modified", "incident_date", "received_on", "resolved_on", "consent_given_on",
	"response_due_on", "resolution_due_on", "responded_on", "stage_since", "next_due_on",
	"overdue_since", "clock_paused_since", "moved_on",
}  # fmt: skip


def _copy_history(factory: CaseFactory, first: int, last: int):
	"""Cases first..last-1 (all >= HISTORY_FROM) as copies of the year before, by INSERT ... SELECT."""
	frappe.db.sql_ddl(
		f"create table if not exists `{HISTORY_MAP}` (name varchar(140) primary key, template varchar(140),"
		" shift_days int)"
	)
	columns = _table_columns("Grievance")
	tables = [
		("Grievance", [f for f in GRIEVANCE_FIELDS if f in columns], "name", {}),
		("Grievance Tag Link", TAG_LINK_FIELDS, "parent", {}),
		*((doctype, fields, "parent", {}) for doctype, fields in CASE_TABLES if "parent" in fields),
		("Confidential Identity", SEALED_FIELDS, "grievance", {"name": "m.name"}),
		(
			"Contact Handle",
			HANDLE_FIELDS,
			"grievance",
			{
				"name": "concat(m.name, '-H')",
				"tracking_code_hash": "sha2(concat(c.tracking_code_hash, m.name), 256)",
			},
		),
	]
	statements = []
	for doctype, fields, link, overrides in tables:
		expressions = []
		for field in fields:
			if field in overrides:
				expressions.append(overrides[field])
			elif field == link or field == "grievance":
				expressions.append("m.name")
			elif field == "name":
				# a child row's name is its parent's name and a suffix
				expressions.append(f"concat(m.name, substring(c.name, char_length(c.`{link}`) + 1))")
			elif field in DATE_COLUMNS:
				expressions.append(f"c.`{field}` - interval m.shift_days day")
			else:
				expressions.append(f"c.`{field}`")
		statements.append(
			f"insert ignore into `tab{doctype}` ({', '.join(f'`{f}`' for f in fields)}) "
			f"select {', '.join(expressions)} from `{HISTORY_MAP}` m join `tab{doctype}` c on c.`{link}` = m.template"
		)
	period, started = factory.period, time.perf_counter()
	chunk = CHUNK * 2
	for start in range(first, last, chunk):
		stop = min(start + chunk, last)
		frappe.db.sql(f"delete from `{HISTORY_MAP}`")
		rows = []
		for n in range(start, stop):
			k = (n - factory.history_from) // period + 1
			rows.append((factory.name_of(n), factory.name_of(n - k * period), k * HISTORY_SHIFT_DAYS))
		_insert_rows_into(f"`{HISTORY_MAP}`", ("name", "template", "shift_days"), rows)
		for statement in statements:
			frappe.db.sql(statement)
		frappe.db.commit()
		_progress(_("Cases (older history, copied)"), stop - first, last - first, started)
	frappe.db.sql_ddl(f"drop table if exists `{HISTORY_MAP}`")


def _generate_cases(factory: CaseFactory, first: int, last: int):
	"""Bulk-insert cases first..last-1 in chunks of CHUNK, committing each chunk.

	The next chunks are generated in a worker while the database stores the current one.
	"""
	columns = _table_columns("Grievance")
	keep = [i for i, f in enumerate(GRIEVANCE_FIELDS) if f in columns]
	fields = [GRIEVANCE_FIELDS[i] for i in keep]
	keep = keep if len(keep) != len(GRIEVANCE_FIELDS) else None
	started = time.perf_counter()
	# Small loads (the demo's 20k) in smaller chunks, so the progress line moves every second or so.
	chunk = CHUNK if last - first >= PROCESS_THRESHOLD else SMALL_CHUNK
	starts = list(range(first, last, chunk))
	with _case_pool(factory, last - first) as pool:
		pending = [pool.submit(_worker_chunk, s, min(s + chunk, last), keep) for s in starts[:2]]
		for i, start in enumerate(starts):
			rows, tag_rows, extra_rows = pending.pop(0).result()
			if i + 2 < len(starts):
				nxt = starts[i + 2]
				pending.append(pool.submit(_worker_chunk, nxt, min(nxt + chunk, last), keep))
			_insert_rows("Grievance", fields, rows)
			if tag_rows:
				_insert_rows("Grievance Tag Link", TAG_LINK_FIELDS, tag_rows)
			for doctype, table_fields in CASE_TABLES:
				if extra_rows[doctype]:
					_insert_rows(doctype, table_fields, extra_rows[doctype])
			frappe.db.commit()
			_progress(_("Cases"), min(start + chunk, last) - first, last - first, started)


# ---------------------------------------------------------------------------------------------------
# Demo users
# ---------------------------------------------------------------------------------------------------


def demo_users(plan: dict) -> list[dict]:
	"""One official per level, attached to a union of the demo tree, plus a Union Administrator."""
	garment = plan["federations"][0]
	bogor = plan["branches"][0]
	workplace = next(wp for wp in plan["workplaces"] if wp["parent_union"] == bogor["union_name"])
	return [
		{
			"email": f"confederation@{DEMO_DOMAIN}",
			"first_name": "Ketua Konfederasi",
			"role": "Confederation Official",
			"union": plan["confederation"]["union_name"],
		},
		{
			"email": f"federation.garment@{DEMO_DOMAIN}",
			"first_name": "Ketua FSP-GTS",
			"role": "Federation Official",
			"union": garment["union_name"],
		},
		{
			"email": f"branch.bogor@{DEMO_DOMAIN}",
			"first_name": "Ketua DPC Bogor",
			"role": "Branch Official",
			"union": bogor["union_name"],
		},
		{
			"email": f"workplace.bogor@{DEMO_DOMAIN}",
			"first_name": "Ketua PUK",
			"role": "Workplace Union Official",
			"union": workplace["union_name"],
		},
		{
			# sees who reported the branch's cases (identity fields), which the other officials do not
			"email": f"custodian.bogor@{DEMO_DOMAIN}",
			"first_name": "Sekretaris DPC Bogor",
			"role": "Branch Official",
			"extra_role": IDENTITY_ROLE,
			"union": bogor["union_name"],
		},
		{
			# the custodian named on every confidential case, beside the branch's custodian where it has one
			"email": f"custodian@{DEMO_DOMAIN}",
			"first_name": "Sekretaris Konfederasi",
			"role": "Confederation Official",
			"extra_role": IDENTITY_ROLE,
			"union": plan["confederation"]["union_name"],
		},
		{
			"email": f"admin@{DEMO_DOMAIN}",
			"first_name": "Admin UnionCase",
			"role": "Union Administrator",
			"union": None,
		},
	]


def ensure_user(
	email: str, first_name: str, role: str, union: str | None = None, password: str = DEMO_PASSWORD
):
	"""A desk user with `role`, its password, and (for officials) a User Permission on `union`."""
	if not frappe.db.exists("User", email):
		frappe.get_doc(
			{
				"doctype": "User",
				"email": email,
				"first_name": first_name,
				"user_type": "System User",
				"send_welcome_email": 0,
				"roles": [{"role": role}],
			}
		).insert(ignore_permissions=True)
	else:
		user = frappe.get_doc("User", email)
		if role not in {r.role for r in user.roles}:
			user.append("roles", {"role": role})
			user.save(ignore_permissions=True)
	from frappe.utils.password import update_password

	update_password(email, password)
	if union and not frappe.db.exists(
		"User Permission", {"user": email, "allow": "Union", "for_value": union}
	):
		frappe.get_doc(
			{
				"doctype": "User Permission",
				"user": email,
				"allow": "Union",
				"for_value": union,
				"apply_to_all_doctypes": 1,
			}
		).insert(ignore_permissions=True)
	frappe.db.commit()


# ---------------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------------


def _load_settings() -> dict | None:
	raw = frappe.db.get_global(SETTINGS_KEY)
	return json.loads(raw) if raw else None


def _save_settings(settings: dict):
	frappe.db.set_global(SETTINGS_KEY, json.dumps(settings, default=str))
	frappe.db.commit()


def make_demo(
	cases: int = 20000, members: int = 5000, workplace_unions: int = 300, seed: int = 42, quiet: bool = False
) -> dict:
	"""Create the demo tree, members and users once, then top cases up to `cases`.

	Re-running never duplicates the tree: the seed and sizes stored by the first run are kept, and only
	the missing (older) cases are added. Returns a summary (users, counts, timings).
	"""
	cases, members, workplace_unions, seed = int(cases), int(members), int(workplace_unions), int(seed)
	timings = {}
	settings = _load_settings()
	if settings:
		if (settings["seed"], settings["workplace_unions"], settings["members"]) != (
			seed,
			workplace_unions,
			members,
		):
			_say(
				quiet,
				_(
					"Demo data already exists: keeping its seed {0}, {1} workplace unions and {2} members."
				).format(settings["seed"], settings["workplace_unions"], settings["members"]),
			)
		seed, workplace_unions, members = settings["seed"], settings["workplace_unions"], settings["members"]

	started = time.perf_counter()
	plan = build_plan(seed, workplace_unions, members)
	_ensure_master_data()
	_insert_tree(plan)
	_insert_members(plan)
	users = demo_users(plan)
	for user in users:
		ensure_user(user["email"], user["first_name"], user["role"], user["union"])
		if user.get("extra_role"):
			frappe.get_doc("User", user["email"]).add_roles(user["extra_role"])
	timings["tree"] = time.perf_counter() - started

	existing = settings.get("cases", 0) if settings else 0
	anchor = get_datetime(settings["anchor"]) if settings and settings.get("anchor") else None
	tags = set(frappe.get_all("Grievance Tag", pluck="name"))
	if existing and anchor:
		factory = CaseFactory(plan, seed, anchor, tags)
		# Cases deleted since the last run (e.g. a benchmark reset): start again from a fresh anchor.
		if not frappe.db.exists("Grievance", factory.name_of(existing - 1)):
			existing, anchor = 0, None
	if not anchor:
		anchor = now_datetime().replace(microsecond=0)
	factory = CaseFactory(plan, seed, anchor, tags)

	started = time.perf_counter()
	if cases > existing:
		_insert_cases(factory, existing, cases)
		# Refresh index statistics after a bulk load (InnoDB samples a few pages: quick at any size),
		# so the optimizer plans with the new table shape rather than a background recalculation's.
		frappe.db.sql("analyze table `tabGrievance`")
		# Bulk inserts bypass the case hooks: the analytics summary is rebuilt from the cases.
		from unioncase.reports import summary

		summary.rebuild(progress=not quiet)
	timings["cases"] = time.perf_counter() - started
	total_cases = max(cases, existing)
	_save_settings(
		{
			"seed": seed,
			"workplace_unions": workplace_unions,
			"members": members,
			"anchor": anchor,
			"cases": total_cases,
		}
	)

	if not quiet:
		_print_logins(users)
	return {
		"seed": seed,
		"anchor": str(anchor),
		"cases": total_cases,
		"added": max(0, cases - existing),
		"members": len(plan["members"]),
		"workplace_unions": len(plan["workplaces"]),
		"users": users,
		"plan": plan,
		"timings": timings,
	}


def _say(quiet: bool, message: str):
	if not quiet:
		print(message)


def _print_logins(users: list[dict]):
	print()
	print(_("Demo logins (password: {0})").format(DEMO_PASSWORD))
	for user in users:
		roles = " + ".join(filter(None, (user["role"], user.get("extra_role"))))
		print(f"  {user['email']:<42} {roles:<38} {user['union'] or ''}")
