"""Checks shared by the two trees (Union, Grievance Category), on top of Frappe's NestedSet."""

import frappe
from frappe import _


def is_within(doctype: str, node: str, ancestor: str) -> bool:
	"""Whether `node` is `ancestor` or one of its descendants."""
	if node == ancestor:
		return True
	bounds = frappe.db.get_value(doctype, ancestor, ["lft", "rgt"], as_dict=True)
	lft = frappe.db.get_value(doctype, node, "lft")
	return bool(bounds and lft and bounds.lft < lft < bounds.rgt)


def validate_no_cycle(doc, parent_field: str):
	"""Refuse a parent that is the node itself or one of its descendants, naming both."""
	parent = doc.get(parent_field)
	if not parent or doc.is_new():
		return
	if is_within(doc.doctype, parent, doc.name):
		frappe.throw(
			_("{0} {1} cannot be placed under {2}: {2} is inside its own subtree.").format(
				_(doc.doctype), frappe.bold(doc.name), frappe.bold(parent)
			),
			title=_("Loop in the tree"),
		)
