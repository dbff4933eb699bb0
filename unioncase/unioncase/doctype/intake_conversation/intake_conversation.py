# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

from frappe.model.document import Document


class IntakeConversation(Document):
	"""A worker's place in the guided first contact (unioncase/intake/guided.py)."""
