# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

from frappe.model.document import Document

from unioncase.privacy.audit import refuse_log_edit


class IdentityAccessLog(Document):
	def validate(self):
		# a log entry is evidence: nobody edits it
		if not self.is_new():
			refuse_log_edit()
