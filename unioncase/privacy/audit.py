"""Who saw a confidential worker's identity: every view, print and export, in the Identity Access Log."""

import frappe
from frappe import _
from frappe.utils import now_datetime

ACCESS_LOG = "Identity Access Log"


def log_identity_access(action: str, doctype: str, name: str | None = None):
	"""Record that the session user saw identity data (action: View, Export or Print)."""
	request = getattr(frappe.local, "request", None)
	entry = {
		"doctype": ACCESS_LOG,
		"user": frappe.session.user,
		"action": action,
		"reference_doctype": doctype,
		"reference_name": name,
		"accessed_on": now_datetime(),
		# the path only: query strings may carry the very values being protected
		"path": request.path if request else None,
	}
	frappe.get_doc(entry).insert(ignore_permissions=True)
	# A GET's writes are rolled back after the answer: then the entry alone is written again and committed,
	# never the request's other writes (setting flags.commit would commit those too).
	frappe.db.after_rollback.add(lambda: keep_entry(entry))


def keep_entry(entry: dict):
	frappe.get_doc(entry).insert(ignore_permissions=True)
	frappe.db.commit()


def refuse_log_edit():
	frappe.throw(
		_("An identity access log entry cannot be changed."), frappe.PermissionError, title=_("Not Allowed")
	)
