"""Number cards the Document Type cards cannot express, scoped by the hierarchy's own criterion."""

import frappe

from unioncase.hierarchy.permissions import grievance_query


@frappe.whitelist(methods=["GET", "POST"])
@frappe.read_only()
def unanswered_inbound_messages(filters: str | dict | None = None) -> dict:
	"""Messages from workers on cases the viewer may read that no later message to the worker answers."""
	if not frappe.has_permission("Case Message", "read"):
		# the card sits on every official's workspace: a researcher, who reads no messages, sees none
		return {"value": 0, "fieldtype": "Int"}
	scope = grievance_query(frappe.session.user) or "1=1"
	count = frappe.db.sql(
		f"""select count(*) from `tabCase Message` uc_in
		join `tabGrievance` on `tabGrievance`.name = uc_in.grievance
		where uc_in.direction = 'From Worker' and `tabGrievance`.status = 'Open' and ({scope})
			and not exists (select 1 from `tabCase Message` uc_out where uc_out.grievance = uc_in.grievance
				and uc_out.direction = 'To Worker' and uc_out.sent_on >= uc_in.sent_on)"""
	)[0][0]
	return {"value": int(count), "fieldtype": "Int"}
