"""Attachment checks by content (magic bytes), never by name or declared type; shared by every channel."""

import frappe
from frappe import _

# (kind, extension, signature at offset 0, extra check); documents are PDF only: office files are zip
# archives that can carry macros and executables.
SIGNATURES = (
	("image/jpeg", "jpg", b"\xff\xd8\xff"),
	("image/png", "png", b"\x89PNG\r\n\x1a\n"),
	("application/pdf", "pdf", b"%PDF-"),
)
ALLOWED_LABEL = "JPG, PNG, WebP, HEIC, PDF"


def detect(content: bytes) -> tuple[str, str] | None:
	"""(content type, extension) of an allowed file, or None."""
	for kind, extension, signature in SIGNATURES:
		if content.startswith(signature):
			return kind, extension
	if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
		return "image/webp", "webp"
	if content[4:8] == b"ftyp" and content[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
		return "image/heic", "heic"
	return None


def check(content: bytes, max_bytes: int) -> str | None:
	"""Why the file is refused (a translated sentence), or None when it may be kept."""
	if not content:
		return _("The file is empty.")
	if len(content) > max_bytes:
		return _("The file is larger than {0} MB.").format(max_bytes // (1024 * 1024))
	if not detect(content):
		return _("Only photos and PDF documents can be sent ({0}).").format(ALLOWED_LABEL)
	return None


def save(content: bytes, doctype: str, name: str, label: str) -> str:
	"""Keep an accepted file as a private attachment, named by what it is, not by what it was called."""
	_kind, extension = detect(content)
	file = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{label}.{extension}",
			"content": content,
			"is_private": 1,
			"attached_to_doctype": doctype,
			"attached_to_name": name,
		}
	).insert(ignore_permissions=True)
	return file.name


def move(from_doctype: str, from_name: str, to_doctype: str, to_name: str):
	"""Hand a message's attachments to the case it made or joined."""
	for file in frappe.get_all(
		"File", filters={"attached_to_doctype": from_doctype, "attached_to_name": from_name}, pluck="name"
	):
		frappe.db.set_value("File", file, {"attached_to_doctype": to_doctype, "attached_to_name": to_name})
