"""Whitelisted replacements for platform endpoints that would otherwise bypass the hierarchy."""

import frappe

from unioncase.compat import aggregate
from unioncase.hierarchy.scope import UNION, allowed_unions


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
def global_search(text: str, start: int = 0, limit: int = 20, doctype: str = ""):
	"""`frappe.utils.global_search.search`, dropping documents the user may not read.

	Frappe checks only doctype-level read there, so a federation that adds cases or members to
	Global Search Settings would otherwise show every official the whole tree's matches.
	"""
	from frappe.utils.global_search import search

	return [
		row for row in search(text, start, limit, doctype) if frappe.has_permission(row.doctype, doc=row.name)
	]


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
