# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

from frappe.utils.nestedset import NestedSet

from unioncase.hierarchy.tree import validate_no_cycle


class GrievanceCategory(NestedSet):
	nsm_parent_field = "parent_grievance_category"

	def validate(self):
		validate_no_cycle(self, self.nsm_parent_field)
