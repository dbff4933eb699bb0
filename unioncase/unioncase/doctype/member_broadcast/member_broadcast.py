# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

from frappe.model.document import Document

from unioncase.intake.broadcast import validate_broadcast


class MemberBroadcast(Document):
	def validate(self):
		validate_broadcast(self)
