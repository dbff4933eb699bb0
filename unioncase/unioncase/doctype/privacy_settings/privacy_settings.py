# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

from frappe.model.document import Document

from unioncase.privacy.logs import on_privacy_settings_update


class PrivacySettings(Document):
	def on_update(self):
		# the logs that can quote a case are cleared no later than the case text is
		on_privacy_settings_update(self)
