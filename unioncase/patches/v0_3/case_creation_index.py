"""The (status, creation) index the open list's newest-created order is read from (Grievance CASE_INDEXES)."""

from unioncase.unioncase.doctype.grievance.grievance import on_doctype_update


def execute():
	on_doctype_update()
