"""Small-cell suppression for the comparable export: primary, complementary, and across exports.

A published table is, per period, the interior cells (category x sector x province x union level),
the total for each value of each dimension (its margins) and the period's total: every one an
*entry*, every margin an equation (margin = sum of its cells). The rules:

1. Primary: an entry below the threshold (and above zero) is suppressed.
2. Across exports of nested scope (the scopes are union subtrees, so two scopes either nest or do
   not overlap): an entry of scope S whose difference to the same entry of any nested scope T lies
   between zero and the threshold is suppressed. The rule is symmetric, so T's export suppresses it
   too: no entry published in both differs by a small count. Periods are whole calendar buckets and
   each period's block is protected on its own, so exports of overlapping date ranges publish
   identical blocks for the periods they share: no difference between them reveals anything.
3. Complementary: while an equation has exactly one suppressed entry (or its suppressed cells are
   all ones, which a reader knows once the margin is published, since listed cells are never empty),
   the smallest other entry in it is suppressed too; then a linear-algebra attack (is a suppressed entry's unit vector in the row
   space of the equations restricted to the suppressed entries?) finds every entry the published
   figures still determine, and each gets a companion, until none is determined.

Zero cells are absent (a structural zero is not a count of people).
"""

import itertools
from collections import defaultdict

import numpy as np

ALL = "*"
DIMENSIONS = ("category", "sector", "province", "level")


def block_entries(cells: list[tuple[tuple, int]]) -> tuple[list[tuple], list[int], list[list[int]]]:
	"""Entries (keys), their values and the equations of one period's block.

	`cells` are ((category, sector, province, level), count) with count > 0. Margin keys put ALL in
	every dimension but one; the block total is ALL everywhere. Each equation is a list of entry
	indexes, the first being the margin, the rest its cells.
	"""
	keys, values, index = [], [], {}

	def entry(key, value):
		if key not in index:
			index[key] = len(keys)
			keys.append(key)
			values.append(0)
		values[index[key]] += value
		return index[key]

	members = defaultdict(list)
	for key, count in cells:
		if count <= 0:
			continue
		cell = entry(tuple(key), int(count))
		for position in range(len(DIMENSIONS)):
			margin = tuple(key[i] if i == position else ALL for i in range(len(DIMENSIONS)))
			members[margin].append(cell)
		members[(ALL,) * len(DIMENSIONS)].append(cell)
	equations = []
	for margin, cell_indexes in members.items():
		head = entry(margin, sum(values[i] for i in cell_indexes))
		equations.append([head, *cell_indexes])
	return keys, values, equations


def determined(values_count: int, equations: list[list[int]], suppressed: set[int]) -> set[int]:
	"""Suppressed entries the published ones determine exactly (linear algebra over the margins)."""
	hidden = sorted(suppressed)
	if not hidden:
		return set()
	column = {entry: j for j, entry in enumerate(hidden)}
	rows = []
	for equation in equations:
		row = np.zeros(len(hidden))
		touched = False
		for position, entry in enumerate(equation):
			if entry in column:
				row[column[entry]] += 1.0 if position == 0 else -1.0
				touched = True
		if touched:
			rows.append(row)
	if not rows:
		return set()  # no equation touches them: nothing can be worked out
	matrix = np.array(rows)
	_u, singular, vt = np.linalg.svd(matrix, full_matrices=False)
	rank = int((singular > 1e-9 * max(matrix.shape)).sum())
	basis = vt[:rank]
	weight = (basis**2).sum(axis=0)
	return {hidden[j] for j in range(len(hidden)) if weight[j] > 1 - 1e-6}


# The widest search of integer solutions the check below makes; a larger block is checked linearly only.
INTEGER_CHECK_LIMIT = 200_000


def pinned_by_integers(values: list[int], equations: list[list[int]], suppressed: set[int]) -> set[int]:
	"""Suppressed entries that take one value in every assignment of whole counts (each listed cell at
	least 1) consistent with the published entries: a reader who tries them all learns those counts."""
	margins = {equation[0] for equation in equations}
	hidden_cells = sorted(i for i in suppressed if i not in margins)
	total = next(
		(e[0] for e in equations if len(e) - 1 == len({c for eq in equations for c in eq[1:]})), None
	)
	bound = (
		values[total]
		if total is not None and total not in suppressed
		else sum(values[i] for i in range(len(values)) if i not in margins) + 10
	)
	if not hidden_cells or bound ** len(hidden_cells) > INTEGER_CHECK_LIMIT:
		return set()
	published_equations = [e for e in equations if e[0] not in suppressed]
	hidden_margins = [e for e in equations if e[0] in suppressed]
	seen = {i: set() for i in suppressed}
	for guess in itertools.product(range(1, bound + 1), repeat=len(hidden_cells)):
		cell_values = dict(zip(hidden_cells, guess, strict=True))

		def value_of(i):
			return cell_values.get(i, values[i])

		if any(sum(value_of(c) for c in e[1:]) != values[e[0]] for e in published_equations):
			continue
		for i in hidden_cells:
			seen[i].add(cell_values[i])
		for e in hidden_margins:
			seen[e[0]].add(sum(value_of(c) for c in e[1:]))
	return {i for i, found in seen.items() if len(found) == 1}


def protect(values: list[int], equations: list[list[int]], threshold: int, forced=()) -> set[int]:
	"""The entries to suppress: primary (0 < value < threshold), forced ones, and their complements."""
	suppressed = {i for i, value in enumerate(values) if 0 < value < threshold} | set(forced)
	margins = {equation[0] for equation in equations}

	def companion(equation, exclude):
		candidates = [
			entry
			for entry in equation
			if entry not in suppressed and entry not in exclude and values[entry] > 0
		]
		if not candidates:
			return None
		# the smallest interior cell, else the smallest margin
		return min(candidates, key=lambda entry: (entry in margins, values[entry], entry))

	for _round in range(len(values) + 1):
		changed = False
		for equation in equations:
			hidden = [entry for entry in equation if entry in suppressed]
			# listed cells hold at least one case: hidden cells summing to their own number are all ones
			all_ones = (
				equation[0] not in suppressed
				and len(hidden) > 1
				and sum(values[e] for e in hidden) == len(hidden)
			)
			if len(hidden) == 1 or all_ones:
				extra = companion(equation, hidden)
				if extra is not None:
					suppressed.add(extra)
					changed = True
		if changed:
			continue
		exposed = determined(len(values), equations, suppressed) or pinned_by_integers(
			values, equations, suppressed
		)
		if not exposed:
			return suppressed
		for entry in sorted(exposed):
			for equation in equations:
				if entry in equation:
					extra = companion(equation, ())
					if extra is not None:
						suppressed.add(extra)
						break
			else:
				continue
			break
		else:
			# nothing left to hide beside them: hide the whole block
			return set(range(len(values)))
	return set(range(len(values)))


def protect_block(cells, threshold: int, nested_blocks=()) -> list[dict]:
	"""One period's published entries: key, value (None when suppressed), suppressed flag, reason.

	`nested_blocks` are the same period's blocks (lists of cells) of every scope nested with this one.
	"""
	keys, values, equations = block_entries(cells)
	position = {key: i for i, key in enumerate(keys)}
	forced = set()
	for other in nested_blocks:
		other_keys, other_values, _equations = block_entries(other)
		theirs = dict(zip(other_keys, other_values, strict=True))
		for key, i in position.items():
			if 0 < abs(values[i] - theirs.get(key, 0)) < threshold:
				forced.add(i)
	suppressed = protect(values, equations, threshold, forced)
	primary = {i for i, value in enumerate(values) if 0 < value < threshold}
	rows = []
	for i, key in enumerate(keys):
		reason = ""
		if i in primary:
			reason = "primary"
		elif i in forced:
			reason = "difference"
		elif i in suppressed:
			reason = "complementary"
		rows.append(
			{
				"key": key,
				"value": None if i in suppressed else values[i],
				"suppressed": i in suppressed,
				"reason": reason,
			}
		)
	return rows
