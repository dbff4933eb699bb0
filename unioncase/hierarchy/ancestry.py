"""Each case carries the branch, federation and confederation above its owning union.

An official's scope is then one indexed equality (`federation = X`) that MariaDB reads in
`modified` order and stops after a page, instead of an IN-list over the whole subtree whose
open cases must all be read and sorted. The columns are also what reports group cases by.
"""

from collections import defaultdict

import frappe

from unioncase.hierarchy.scope import LEVEL_COLUMNS, UNION
from unioncase.reports import rollup, summary

ANCESTRY_COLUMNS = ("confederation", "federation", "branch")


def chain_of(union: str | None, tree: dict | None = None) -> list[tuple[str, str]]:
	"""[(union, level), ...] from `union` up to the top; `tree` maps name -> (parent, level)."""
	chain = []
	while union:
		row = tree.get(union) if tree else frappe.db.get_value(UNION, union, ["parent_union", "level"])
		if not row:
			break  # a union that does not exist places nothing
		parent, level = row
		chain.append((union, level))
		union = parent
	return chain


def ancestry_of(union: str, tree: dict | None = None) -> dict:
	"""{confederation, federation, branch} at or above `union`; `tree` maps name -> (parent, level)."""
	return ancestry_from_chain(chain_of(union, tree))


def ancestry_from_chain(chain: list[tuple[str, str]]) -> dict:
	ancestry = dict.fromkeys(ANCESTRY_COLUMNS)
	for union, level in chain:
		if LEVEL_COLUMNS.get(level) in ancestry:
			ancestry[LEVEL_COLUMNS[level]] = union
	return ancestry


def case_placement(owning_union: str | None, originating_union: str | None, tree: dict | None = None) -> dict:
	"""The columns that place a case in the tree: owning and originating union and the ancestry.

	The unions a case came up through keep seeing it, so the ancestry is that of the originating union;
	but only while the owner is at or above it. When the owner is not (an admin moved an escalated case
	elsewhere, or the subtree it came from moved away), the case originates at its owner: the scope
	criterion (hierarchy/scope.py) then finds it wherever the owner's officials look.
	"""
	origin = originating_union or owning_union
	chain = chain_of(origin, tree)
	if owning_union and owning_union not in {union for union, _level in chain}:
		origin, chain = owning_union, chain_of(owning_union, tree)
	return {"owning_union": owning_union, "originating_union": origin, **ancestry_from_chain(chain)}


def set_case_ancestry(doc):
	doc.update(case_placement(doc.owning_union, doc.originating_union))


def refresh_case_ancestry(root: str | None = None):
	"""Recompute the columns of the cases owned in `root`'s subtree (every case without a root).

	One UPDATE per group of unions sharing an ancestry, by each case's originating union (its owning
	union unless escalated); derived data, so `modified` and the version history stay as they are.
	Then the escalated cases whose owner is no longer above the union they came from (the subtree moved
	away from it) originate at their owner, as case_placement decides for a saved case.
	"""
	tree = {
		row.name: (row.parent_union, row.level)
		for row in frappe.get_all(UNION, fields=["name", "parent_union", "level"])
	}
	if root:
		bounds = frappe.db.get_value(UNION, root, ["lft", "rgt"], as_dict=True)
		unions = frappe.get_all(
			UNION, filters={"lft": [">=", bounds.lft], "rgt": ["<=", bounds.rgt]}, pluck="name"
		)
	else:
		unions = list(tree)
	groups = defaultdict(list)
	for union in unions:
		groups[tuple(ancestry_of(union, tree).items())].append(union)
	# the analytics table (reports/summary.py) carries the same columns: moved in the same transaction
	_move_cases(frappe.qb.DocType("Grievance"), groups, unions, tree)
	if summary.exists():
		with rollup.moving("a.originating_union in %(unions)s", {"unions": tuple(unions) or ("",)}):
			_move_cases(frappe.qb.DocType("Grievance Analytics"), groups, unions, tree)


def _move_cases(grievance, groups: dict, unions: list, tree: dict):
	for ancestry, members in groups.items():
		# Every case has an originating union (validate sets it, v0_2 filled older ones): index-served.
		query = frappe.qb.update(grievance).where(grievance.originating_union.isin(members))
		for column, value in ancestry:
			query = query.set(grievance[column], value)
		query.run()
	if not unions:
		return
	escalated = (
		frappe.qb.from_(grievance)
		.select(grievance.originating_union, grievance.owning_union)
		.distinct()
		.where(grievance.originating_union.isin(unions))
		.where(grievance.owning_union != grievance.originating_union)
	).run()
	for origin, owner in escalated:
		placement = case_placement(owner, origin, tree)
		if placement["originating_union"] == origin:
			continue
		query = (
			frappe.qb.update(grievance)
			.where(grievance.originating_union == origin)
			.where(grievance.owning_union == owner)
		)
		for column, value in placement.items():
			query = query.set(grievance[column], value)
		query.run()
