"""The indexes the Desk's kanban columns, stage counts and a workplace union's all-cases view are read
from (Grievance.on_doctype_update), on sites whose Grievance DocType is not synced again."""

from unioncase.unioncase.doctype.grievance.grievance import on_doctype_update


def execute():
	on_doctype_update()
