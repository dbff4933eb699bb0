# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

from frappe.model.document import Document


class WhatsAppNumberRoute(Document):
	pass
