# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document
from frappe.utils import today

from unioncase.hierarchy.placement import validate_grievance

REPORTER_IDENTITY_FIELDS = ("member", "reporter_name", "reporter_phone", "reporter_email")
FINISHED_STATUSES = ("Resolved", "Closed")


class Grievance(Document):
	def validate(self):
		if self.is_anonymous:
			# An anonymous report keeps no identity, whatever the form or channel sent along.
			for fieldname in REPORTER_IDENTITY_FIELDS:
				self.set(fieldname, None)
		validate_grievance(self)
		if self.status in FINISHED_STATUSES and not self.resolved_on:
			self.resolved_on = today()


def on_doctype_update():
	# Serves every scoped list of cases: owning_union IN (...) AND status = ... ORDER BY modified.
	frappe.db.add_index("Grievance", ["owning_union", "status", "modified"], "owning_union_status_modified")
