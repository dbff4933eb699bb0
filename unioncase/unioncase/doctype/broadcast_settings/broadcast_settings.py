# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class BroadcastSettings(Document):
	def validate(self):
		for field in ("whatsapp_rate", "sms_rate"):
			if not (self.get(field) or 0) > 0:
				frappe.throw(
					_("{0} must be more than 0.").format(_(self.meta.get_label(field))),
					title=_("Invalid rate"),
				)
		if (self.max_attempts or 0) < 1:
			frappe.throw(_("{0} must be at least 1.").format(_(self.meta.get_label("max_attempts"))))
		seen = set()
		for row in self.templates:
			row.template_name = (row.template_name or "").strip()
			if row.template_name in seen:
				frappe.throw(
					_("Template {0} is listed twice.").format(frappe.bold(row.template_name)),
					title=_("Duplicate template"),
				)
			seen.add(row.template_name)
