# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

LOWEST_THRESHOLD = 3


class ComparableExportSettings(Document):
	def validate(self):
		if (self.minimum_cell_count or 0) < LOWEST_THRESHOLD:
			frappe.throw(
				_("{0} must be at least {1}.").format(_("Suppress Counts Below"), LOWEST_THRESHOLD),
				title=_("Invalid value"),
			)
