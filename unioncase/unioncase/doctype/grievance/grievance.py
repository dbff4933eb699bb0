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


# Replaced by an index of the same columns in a better order; dropped by patch v0_2.case_view_indexes.
DROPPED_INDEXES = ("status_overdue_next_due",)


def on_doctype_update():
	for name, columns in CASE_INDEXES.items():
		frappe.db.add_index("Grievance", list(columns), name)


# Every view, count and group-by the Desk offers an official is read from one of these, whatever the
# case history's size (benchmarks/README.md shows each call's plan at 1M cases). A scope is one
# equality on the column of the official's level: a workplace union's officials `originating_union`
# (the cases it owns or escalated), a branch's, federation's, confederation's their ancestry column
# (hierarchy/ancestry.py); an unattached IN-list on `owning_union` for hide_descendants attachments.
SCOPE_COLUMNS = ("originating_union", "branch", "federation", "confederation")
CASE_INDEXES = {
	# the list of open cases in modified order, and its count (owning_union last: the sidebar's
	# group-by on the owning union is answered from the index)
	"owning_union_status_modified": ("owning_union", "status", "modified"),
	"originating_union_status_modified": ("originating_union", "status", "modified"),
	**{
		f"{column}_status_modified": (column, "status", "modified", "owning_union")
		for column in SCOPE_COLUMNS[1:]
	},
	# a kanban column (open cases of one stage, newest first) and the sidebar's count by stage, for
	# scopes whose open backlog runs into the thousands (a workplace union's few open cases are read
	# from its (originating_union, status, modified) entries)
	**{
		f"{column}_status_stage_modified": (column, "status", "workflow_state", "modified")
		for column in SCOPE_COLUMNS[1:]
	},
	# "all cases", newest first, of a workplace union (a wider scope finds its page in the
	# `modified` index within a few rows)
	"originating_union_modified": ("originating_union", "modified"),
	# the overdue job's selection: not yet flagged, open, next deadline passed (workflows/overdue.py).
	# is_overdue first: an index led by status alone lures MariaDB into sorting every open case of the
	# tree for a scope's page instead of reading the scope's entries in order
	"overdue_status_next_due": ("is_overdue", "status", "next_due_on"),
	# unscoped readers (administrators): the open list in order, its count and its group-bys read the
	# open cases only; a scoped reader's own index above is narrower, so MariaDB prefers it
	"status_modified": ("status", "modified"),
	# the open list newest-created first: read in creation order and stopped after one page, where
	# (status, modified) made a wide scope sort all its open cases (1.67x at 1M against 10k)
	"status_creation": ("status", "creation"),
}
