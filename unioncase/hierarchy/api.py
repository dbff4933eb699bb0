"""Whitelisted replacements for platform endpoints that would otherwise bypass the hierarchy."""

from collections import defaultdict

import frappe
from frappe.utils import cint

from unioncase.compat import aggregate, readable_names_sql
from unioncase.hierarchy.scope import UNION, allowed_unions

# a global-search page is a dropdown: more than this at once is not a search but an export
MAX_SEARCH_PAGE = 100


@frappe.whitelist()
def get_count(
	doctype: str, filters: str | dict | list | None = None, debug: bool = False, cache: bool = False
) -> int:
	"""`frappe.client.get_count`, but through `frappe.get_list`, so permissions and scope apply.

	Frappe v15's version calls `frappe.db.count`, which ignores User Permissions entirely.
	"""
	if isinstance(filters, str):
		filters = frappe.parse_json(filters)
	rows = frappe.get_list(doctype, filters=filters, fields=[aggregate("count", "*", "total")], order_by=None)
	return rows[0].total if rows else 0


@frappe.whitelist()
def global_search(text: str, start: int = 0, limit: int = 20, doctype: str = "") -> list[dict]:
	"""`frappe.utils.global_search.search`, over the documents the user may read only.

	Frappe checks only doctype-level read there, so a federation that adds cases or members to
	Global Search Settings would otherwise show every official the whole tree's matches. The scope is
	part of the query (each doctype's rows are those `frappe.get_list` gives the user), so a page holds
	`limit` readable rows and `start` counts readable rows: the next page continues without gaps.
	"""
	from frappe.desk.doctype.global_search_settings.global_search_settings import (
		get_doctypes_for_global_search,
	)

	priorities = [
		name for name in get_doctypes_for_global_search() if name in set(frappe.get_user().get_can_read())
	]
	if doctype:
		priorities = [name for name in priorities if name == doctype]
	start, limit = max(cint(start), 0), min(max(cint(limit), 0), MAX_SEARCH_PAGE)
	if not priorities or not limit:
		return []
	# one readable-names subquery per doctype, from the same query builder as the user's lists
	scopes = " or ".join(
		"(doctype = {} and name in ({}))".format(
			frappe.db.escape(name), readable_names_sql(name).replace("%", "%%")
		)
		for name in priorities
	)
	results = []
	for word in {word.strip() for word in text.split("&")} - {""}:
		# the match Frappe's search runs (query_builder.custom.MATCH): every word, as a prefix
		results += frappe.db.sql(
			f"""select doctype, name, content, match(content) against (%(word)s in boolean mode) as `rank`
			from `__global_search`
			where match(content) against (%(word)s in boolean mode) and ({scopes})
			order by `rank` desc, doctype, name
			limit %(limit)s offset %(start)s""",
			{"word": f"+{word}*", "limit": limit, "start": start},
			as_dict=True,
		)
	add_titles(results)
	order = {name: index for index, name in enumerate(priorities)}
	return sorted(results, key=lambda row: order[row.doctype])


def add_titles(rows: list[dict]):
	"""Title and image as Frappe's search shows them: one query per doctype, not two per row."""
	names_by_doctype = defaultdict(set)
	for row in rows:
		names_by_doctype[row.doctype].add(row.name)
	for doctype, names in names_by_doctype.items():
		meta = frappe.get_meta(doctype)
		fields = {key: meta.get(key) for key in ("title_field", "image_field") if meta.get(key)}
		fields = {key: field for key, field in fields.items() if meta.get_field(field)}
		if not fields:
			continue
		values = {
			row.name: row
			for row in frappe.get_list(
				doctype,
				filters={"name": ["in", list(names)]},
				fields=["name", *set(fields.values())],
				limit_page_length=0,
				order_by=None,
			)
		}
		for row in rows:
			if row.doctype == doctype and row.name in values:
				for key, field in fields.items():
					row[key.removesuffix("_field")] = values[row.name].get(field)


@frappe.whitelist()
def get_union_tree_nodes(parent: str | None = None, is_root: bool = False, **tree_args):
	"""Children for the Union tree view; at the root, the top of the user's own part of the tree.

	Frappe's tree view starts from unions without a parent, which a branch official cannot see.
	(`tree_args`: the view also sends doctype and label, which this tree does not need.)
	"""
	fields = ["name as value", "union_name as title", "is_group as expandable", "level"]
	if parent and not frappe.parse_json(is_root):
		return frappe.get_list(
			UNION, filters={"parent_union": parent}, fields=fields, order_by="union_name asc"
		)
	unions = allowed_unions(doctype=UNION)
	if unions is None:
		filters = [[UNION, "parent_union", "is", "not set"]]
	else:
		in_scope = set(unions)
		tops = frappe.get_list(UNION, filters={"name": ["in", unions]}, fields=["name", "parent_union"])
		filters = {"name": ["in", [row.name for row in tops if row.parent_union not in in_scope] or [""]]}
	return frappe.get_list(UNION, filters=filters, fields=fields, order_by="union_name asc")
