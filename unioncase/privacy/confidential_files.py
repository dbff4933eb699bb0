"""The files of a confidential case are its named custodians' alone, on every path Frappe serves a file.

Frappe decides whether a file may be downloaded in the File controller (`is_downloadable`, called by
the /private/files URL and both `download_file` endpoints) and reads it with `get_content` (those,
zip downloads, email attachments); neither consults the app's `has_permission` hook. The File class
here adds the custodian check to both. A file is sealed when any File row with its URL is attached to
a confidential case: copies Frappe makes (an email's attachments) point at the same file on disk.
"""

import frappe
from frappe import _
from frappe.core.doctype.file.file import File

from unioncase.privacy.confidential import CASE, is_named_custodian


class CaseFile(File):
	def is_downloadable(self):
		# A sealed file is its named custodians' whichever File row with its URL is asked: v15's
		# download_file endpoints take the newest row with the URL (an email's copy, a ToDo's), whose own
		# permission would refuse the custodian. The content on disk is the case's either way.
		cases = sealing_cases(self)
		if cases:
			return all(is_named_custodian(frappe.get_doc(CASE, case)) for case in cases)
		return super().is_downloadable()

	def get_content(self, *args, **kwargs):
		# a new File reads what it is given, not a stored file
		if not self.is_new() and is_sealed_from(self):
			raise frappe.PermissionError(_("You don't have permission to access this file"))
		return super().get_content(*args, **kwargs)


def is_sealed_from(file, user: str | None = None) -> bool:
	"""True when `file` belongs to a confidential case on which `user` is not a named custodian."""
	cases = sealing_cases(file)
	return any(not is_named_custodian(frappe.get_doc(CASE, case), user) for case in cases)


def sealing_cases(file) -> list[str]:
	"""The confidential cases this file, or another File row with the same URL, is attached to."""
	cases = set()
	if file.get("attached_to_doctype") == CASE and file.get("attached_to_name"):
		cases.add(file.attached_to_name)
	if file.get("file_url"):
		cases.update(
			frappe.get_all(
				"File",
				filters={"file_url": file.file_url, "attached_to_doctype": CASE},
				pluck="attached_to_name",
			)
		)
	cases.discard(None)
	if not cases:
		return []
	return frappe.get_all(CASE, filters={"name": ["in", list(cases)], "is_confidential": 1}, pluck="name")
