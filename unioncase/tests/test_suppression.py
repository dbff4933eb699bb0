"""The suppression rule attacked: no published figure, margin or difference reveals a small count.

The attacks are written here, apart from the code under test: an exact linear-algebra attack (is a
suppressed figure's unit vector in the row space of the margins' equations, by matrix rank), an
exhaustive integer attack on small tables (every assignment of the suppressed cells, each at least 1,
since empty cells are not listed, that agrees with every published figure), and a differencing attack
on every pair of exports of nested scope.
"""

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unioncase.reports.suppression import ALL, DIMENSIONS, protect_block

VALUES = {
	"category": ("Upah", "K3"),
	"sector": ("Garmen", "Sawit"),
	"province": ("Jabar",),
	"level": ("PUK", "Cabang"),
}
KEYS = list(itertools.product(*(VALUES[d] for d in DIMENSIONS)))


def tables(max_count=12):
	return st.lists(
		st.integers(min_value=0, max_value=max_count), min_size=len(KEYS), max_size=len(KEYS)
	).map(lambda counts: [(key, count) for key, count in zip(KEYS, counts, strict=True) if count > 0])


def margins_of(cells):
	"""Every published key and the cells it sums, computed independently of the module."""
	groups = {}
	for key, _count in cells:
		groups.setdefault(key, {key})
		for position in range(len(DIMENSIONS)):
			margin = tuple(key[i] if i == position else ALL for i in range(len(DIMENSIONS)))
			groups.setdefault(margin, set()).add(key)
		groups.setdefault((ALL,) * len(DIMENSIONS), set()).add(key)
	return groups


def published(rows):
	return {row["key"]: row["value"] for row in rows if not row["suppressed"]}


def linear_attack(cells, rows) -> set:
	"""Suppressed keys whose value the published figures determine (by rank, exact arithmetic on ints)."""
	counts = dict(cells)
	groups = margins_of(cells)
	hidden = [row["key"] for row in rows if row["suppressed"]]
	hidden_cells = [key for key in hidden if key in counts]
	# unknowns: the hidden interior cells; every entry is a known linear function of the cells
	recovered = set()
	equations = []
	for key, members in groups.items():
		if key in counts:
			continue
		if key not in published(rows):
			continue
		equations.append([1 if cell in members else 0 for cell in hidden_cells])
	a = np.array(equations, dtype=float) if equations else np.zeros((0, len(hidden_cells)))
	rank = np.linalg.matrix_rank(a) if len(a) else 0
	for key in hidden:
		members = groups[key]
		target = np.array([[1 if cell in members else 0 for cell in hidden_cells]], dtype=float)
		if not target.any():
			recovered.add(key)  # a sum of published cells only
			continue
		stacked = np.vstack([a, target]) if len(a) else target
		if np.linalg.matrix_rank(stacked) == rank:
			recovered.add(key)
	return recovered


def integer_attack(cells, rows, limit=200_000) -> set | None:
	"""Suppressed keys with exactly one value over every consistent assignment; None if too large."""
	counts = dict(cells)
	groups = margins_of(cells)
	public = published(rows)
	hidden_cells = [key for key in counts if key not in public]
	total = public.get((ALL,) * len(DIMENSIONS))
	bound = total if total is not None else sum(counts.values()) + 10
	if (bound ** len(hidden_cells)) > limit:
		return None
	known = {key: value for key, value in public.items() if key in counts}
	feasible = {row["key"]: set() for row in rows if row["suppressed"]}
	for guess in itertools.product(range(1, bound + 1), repeat=len(hidden_cells)):
		values = {**known, **dict(zip(hidden_cells, guess, strict=True))}
		if any(
			sum(values[c] for c in groups[key]) != value for key, value in public.items() if key not in counts
		):
			continue
		for key in feasible:
			feasible[key].add(sum(values[c] for c in groups[key]))
	return {key for key, seen in feasible.items() if len(seen) == 1}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.one_of(tables(), tables(max_count=4)), threshold=st.sampled_from([3, 5]))
def test_no_published_figure_is_small_and_none_is_recoverable(cells, threshold):
	rows = protect_block(cells, threshold)
	groups = margins_of(cells)
	counts = dict(cells)
	for row in rows:
		true_value = sum(counts[c] for c in groups[row["key"]])
		if not row["suppressed"]:
			assert row["value"] == true_value  # published figures are exact
			assert not 0 < row["value"] < threshold
	small = {row["key"] for row in rows if 0 < sum(counts[c] for c in groups[row["key"]]) < threshold}
	assert small <= {row["key"] for row in rows if row["suppressed"]}
	assert not linear_attack(cells, rows)
	recovered = integer_attack(cells, rows)
	if recovered is not None:
		assert not recovered, recovered


def test_a_small_cell_alone_in_its_margins_takes_companions():
	cells = [(KEYS[0], 2), (KEYS[1], 9), (KEYS[2], 8), (KEYS[5], 7)]
	rows = protect_block(cells, 5)
	hidden = {row["key"]: row["reason"] for row in rows if row["suppressed"]}
	assert hidden[KEYS[0]] == "primary"
	assert len(hidden) >= 3  # the small cell, and companions in its margins
	assert not linear_attack(cells, rows)
	assert not integer_attack(cells, rows)


def test_all_ones_behind_a_published_margin_are_not_pinned():
	# two cells of 1 beside a large one: their margin minus the large cell is 2 = two cells of at least 1
	cells = [(KEYS[0], 1), (KEYS[1], 1), (KEYS[2], 10)]
	rows = protect_block(cells, 3)
	assert not integer_attack(cells, rows)


# Scopes nest as a tree: the site holds two federations, the first holds two branches.
TREE = {"site": None, "fed a": "site", "fed b": "site", "branch a1": "fed a", "branch a2": "fed a"}
LEAVES = ("fed a", "fed b", "branch a1", "branch a2")  # cases sit at these (fed a has its own too)


def chain(scope):
	while scope:
		yield scope
		scope = TREE[scope]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
	atoms=st.lists(
		st.tuples(st.sampled_from(LEAVES), st.sampled_from(KEYS), st.integers(min_value=1, max_value=9)),
		min_size=1,
		max_size=14,
	),
	threshold=st.sampled_from([3, 5]),
)
def test_no_difference_between_two_exports_of_nested_scope_reveals_a_small_count(atoms, threshold):
	blocks = {scope: {} for scope in TREE}
	for leaf, key, count in atoms:
		for scope in chain(leaf):
			blocks[scope][key] = blocks[scope].get(key, 0) + count
	nested = {
		scope: [
			other for other in TREE if other != scope and (other in chain(scope) or scope in chain(other))
		]
		for scope in TREE
	}
	exports = {
		scope: published(
			protect_block(
				list(blocks[scope].items()), threshold, [list(blocks[o].items()) for o in nested[scope]]
			)
		)
		for scope in TREE
	}
	for scope, others in nested.items():
		for other in others:
			for key in exports[scope].keys() & exports[other].keys():
				difference = abs(exports[scope][key] - exports[other][key])
				assert not 0 < difference < threshold, (scope, other, key, difference)
	for scope in TREE:
		assert not linear_attack(
			list(blocks[scope].items()),
			protect_block(
				list(blocks[scope].items()), threshold, [list(blocks[o].items()) for o in nested[scope]]
			),
		)


def test_the_attacks_recover_what_primary_suppression_alone_leaves_open():
	"""The attacks can fail: with only the small cell withheld, both recover it from its margins."""
	cells = [(KEYS[0], 2), (KEYS[1], 9), (KEYS[2], 8), (KEYS[5], 7)]
	naive = [
		{"key": key, "value": None if key == KEYS[0] else value, "suppressed": key == KEYS[0], "reason": ""}
		for key, value in (
			(key, sum(dict(cells)[c] for c in members)) for key, members in margins_of(cells).items()
		)
	]
	assert KEYS[0] in linear_attack(cells, naive)
	assert KEYS[0] in integer_attack(cells, naive)
	# two cells of 1 whose margins are published: each must be 1, which rank alone does not see
	ones = [(KEYS[0], 1), (KEYS[1], 1), (KEYS[2], 10)]
	hidden = {KEYS[0], KEYS[1]}
	pinned = [
		{"key": key, "value": None if key in hidden else value, "suppressed": key in hidden, "reason": ""}
		for key, value in (
			(key, sum(dict(ones)[c] for c in members)) for key, members in margins_of(ones).items()
		)
	]
	assert integer_attack(ones, pinned) >= hidden
