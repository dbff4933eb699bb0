"""WhatsApp cases opened before the pseudonym existed get theirs (derived from the case's handle)."""

import frappe

from unioncase.intake import handle


def execute():
	if not frappe.db.has_column("Grievance", "reporter_pseudonym"):
		return
	rows = frappe.db.sql(
		"""select g.name, g.channel, h.name as handle from `tabGrievance` g
		join `tabContact Handle` h on h.grievance = g.name
		where g.channel in ('WhatsApp', 'SMS') and ifnull(g.reporter_pseudonym, '') = ''
		order by h.creation asc""",
		as_dict=True,
	)
	done = set()
	for row in rows:
		if row.name in done:
			continue  # the case's first handle names it, as handle.for_case does
		done.add(row.name)
		frappe.db.set_value(
			"Grievance",
			row.name,
			"reporter_pseudonym",
			handle.pseudonym(row.handle, row.channel),
			update_modified=False,
		)
