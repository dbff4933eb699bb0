# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import flt

CONDITIONS = ("kind", "category", "severity", "workflow_state")


class GrievanceDeadlinePolicy(Document):
	def validate(self):
		if flt(self.resolution_target) <= 0:
			frappe.throw(_("The resolution target must be more than zero."), title=_("Invalid target"))
		if self.enabled:
			self.validate_unique_conditions()

	def validate_unique_conditions(self):
		"""Two enabled rules for the same cases would leave the winner to chance."""
		# Compared here, not in a filter: an empty condition is NULL or '' (an empty Select), and v15's
		# ("is", "not set") matches NULL only. The table holds a handful of rules.
		mine = tuple(self.get(field) or "" for field in CONDITIONS)
		rules = frappe.get_all(
			self.doctype,
			filters={"enabled": 1, "name": ("!=", self.name or "")},
			fields=["name", *CONDITIONS],
			order_by="name",
		)
		clash = next(
			(rule.name for rule in rules if tuple(rule.get(field) or "" for field in CONDITIONS) == mine),
			None,
		)
		if clash:
			frappe.throw(
				_(
					"Rule {0} already applies to the same cases. Change its conditions or disable one of them."
				).format(clash),
				title=_("Duplicate rule"),
			)
