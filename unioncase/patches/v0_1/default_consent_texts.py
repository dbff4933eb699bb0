import frappe

from unioncase.privacy.consent import DEFAULT_VERSION, make_default_consent_texts


def execute():
	"""Sites installed before consent texts existed get the first version (never overwriting one).

	Members recorded then carry the bare version "v1" (a free-text field at the time); it becomes the
	Bahasa Indonesia text's name, so the now-linked field points at a real text.
	"""
	make_default_consent_texts()
	frappe.db.set_value(
		"Union Member",
		{"consent_text_version": DEFAULT_VERSION},
		"consent_text_version",
		f"{DEFAULT_VERSION}-id",
		update_modified=False,
	)
