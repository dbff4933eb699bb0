"""Phone numbers and emails shown so a reader can tell them apart without learning them.

Registered as Jinja methods (`mask_phone`, `mask_email`) for notifications and print formats.
"""

import re

import phonenumbers

# Phone numbers and emails as they can appear in free text (error traces, messages).
PHONE_IN_TEXT = re.compile(r"(?<![\w+])(?:\+?62|0)[\s\-]?8[\d\s\-]{6,14}\d(?!\w)")
EMAIL_IN_TEXT = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
HIDDEN = "****"


def mask_phone(number: str | None) -> str:
	"""'+6281234567890' -> '+62 812 **** 7890': country, operator prefix and last four digits."""
	if not number:
		return ""
	digits = re.sub(r"\D", "", str(number))
	if len(digits) < 8:
		return HIDDEN
	try:
		parsed = phonenumbers.parse(str(number), "ID")
		country, national = str(parsed.country_code), str(parsed.national_number)
	except phonenumbers.NumberParseException:
		country, national = "", digits
	prefix = f"+{country} " if country else ""
	return f"{prefix}{national[:3]} {HIDDEN} {national[-4:]}"


def mask_email(email: str | None) -> str:
	"""'siti.rahayu@example.org' -> 's****@example.org'."""
	if not email:
		return ""
	local, at, domain = str(email).partition("@")
	if not at:
		return HIDDEN
	return f"{local[:1]}{HIDDEN}@{domain}"


def mask_contacts_in_text(text: str | None) -> str | None:
	"""Every phone number and email in free text, masked."""
	if not text:
		return text
	text = EMAIL_IN_TEXT.sub(lambda match: mask_email(match.group()), text)
	return PHONE_IN_TEXT.sub(lambda match: mask_phone(match.group()), text)
