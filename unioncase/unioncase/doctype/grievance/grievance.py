# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from unioncase.hierarchy.placement import validate_grievance
from unioncase.intake.phone import normalize_phone
from unioncase.privacy.anonymity import strip_reporter_identity
from unioncase.privacy.consent import log_consent_change, validate_consent
from unioncase.workflows.deadlines import update_deadlines
from unioncase.workflows.stages import after_stage_change, apply_stage_change
from unioncase.workflows.status import set_status_dates


class Grievance(Document):
	def validate(self):
		strip_reporter_identity(self)
		apply_stage_change(self)
		validate_grievance(self)
		self.reporter_phone = normalize_phone(self.reporter_phone, "Reporter Phone")
		set_status_dates(self)
		update_deadlines(self)
		validate_consent(self)

	def on_update(self):
		log_consent_change(self)
		after_stage_change(self)


def on_doctype_update():
	# Serve each scoped list of open cases in modified order: <level column> = X AND status = ...
	frappe.db.add_index("Grievance", ["owning_union", "status", "modified"], "owning_union_status_modified")
	# A workplace union's officials: the cases it owns or escalated (unioncase.hierarchy.permissions)
	frappe.db.add_index(
		"Grievance", ["originating_union", "status", "modified"], "originating_union_status_modified"
	)
	for column in ("branch", "federation", "confederation"):
		# owning_union last: Frappe's own User Permission check on it is then answered from the index
		frappe.db.add_index(
			"Grievance", [column, "status", "modified", "owning_union"], f"{column}_status_modified"
		)
	# The overdue job's selection: open, not yet flagged, next deadline passed (workflows/overdue.py)
	frappe.db.add_index("Grievance", ["status", "is_overdue", "next_due_on"], "status_overdue_next_due")
