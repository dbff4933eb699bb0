"""Each case carries the branch, federation and confederation above its owning union.

An official's scope is then one indexed equality (`federation = X`) that MariaDB reads in
`modified` order and stops after a page, instead of an IN-list over the whole subtree whose
open cases must all be read and sorted. The columns are also what reports group cases by.
"""

from collections import defaultdict

import frappe

from unioncase.hierarchy.scope import LEVELS, UNION

# Where a union of each level appears on a case it (or a union below it) owns.
LEVEL_COLUMNS = dict(zip(LEVELS, ("confederation", "federation", "branch", "owning_union"), strict=True))
ANCESTRY_COLUMNS = ("confederation", "federation", "branch")


def ancestry_of(union: str, tree: dict | None = None) -> dict:
	"""{confederation, federation, branch} at or above `union`; `tree` maps name -> (parent, level)."""
	ancestry = dict.fromkeys(ANCESTRY_COLUMNS)
	while union:
		parent, level = tree[union] if tree else frappe.db.get_value(UNION, union, ["parent_union", "level"])
		if LEVEL_COLUMNS.get(level) in ancestry:
			ancestry[LEVEL_COLUMNS[level]] = union
		union = parent
	return ancestry


def set_case_ancestry(doc):
	# From the bottom of the escalation chain: the unions a case came up through keep seeing it.
	doc.update(ancestry_of(doc.originating_union or doc.owning_union))


def refresh_case_ancestry(root: str | None = None):
	"""Recompute the columns of the cases owned in `root`'s subtree (every case without a root).

	One UPDATE per group of unions sharing an ancestry, by each case's originating union (its owning
	union unless escalated); derived data, so `modified` and the version history stay as they are.
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
	grievance = frappe.qb.DocType("Grievance")
	for ancestry, members in groups.items():
		# Every case has an originating union (validate sets it, v0_2 filled older ones): index-served.
		query = frappe.qb.update(grievance).where(grievance.originating_union.isin(members))
		for column, value in ancestry:
			query = query.set(grievance[column], value)
		query.run()
