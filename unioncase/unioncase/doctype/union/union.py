# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

from frappe.utils.nestedset import NestedSet

from unioncase.hierarchy.ancestry import refresh_case_ancestry
from unioncase.hierarchy.placement import (
	refuse_delete_with_open_cases,
	validate_move_in_scope,
	validate_union_level,
)
from unioncase.hierarchy.scope import clear_scope_cache
from unioncase.hierarchy.sharing import withdraw_shares_outside_scope
from unioncase.hierarchy.tree import validate_no_cycle
from unioncase.workflows.stages import refresh_owning_level


class Union(NestedSet):
	nsm_parent_field = "parent_union"

	def validate(self):
		validate_no_cycle(self, self.nsm_parent_field)
		validate_union_level(self)
		validate_move_in_scope(self)
		self.flags.scope_changed = self.is_new() or self.has_value_changed(self.nsm_parent_field)
		self.flags.cases_move = not self.is_new() and (
			self.has_value_changed(self.nsm_parent_field) or self.has_value_changed("level")
		)

	def on_update(self):
		super().on_update()
		if self.flags.scope_changed:
			clear_scope_cache()
		if self.flags.cases_move:
			refresh_case_ancestry(self.name)
			refresh_owning_level(self.name, self.level)
			withdraw_shares_outside_scope()

	def on_trash(self):
		refuse_delete_with_open_cases(self.name)
		super().on_trash()
		clear_scope_cache()
