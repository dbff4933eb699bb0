"""One canonical form for workers' phone numbers (E.164), so that a WhatsApp or SMS sender matches
the member who owns the number however it was typed ("0812-3456-7890", "+62 812 3456 7890")."""

import frappe
import phonenumbers  # a dependency of Frappe itself
from frappe import _

# Numbers written without a country code are Indonesian.
DEFAULT_REGION = "ID"


def normalize_phone(number: str | None, label: str) -> str | None:
	if not number:
		return number
	try:
		parsed = phonenumbers.parse(number, DEFAULT_REGION)
	except phonenumbers.NumberParseException:
		parsed = None
	if not parsed or not phonenumbers.is_valid_number(parsed):
		frappe.throw(
			_(
				"{0} {1} is not a valid phone number. Write it like 0812-3456-7890 or +62 812 3456 7890."
			).format(_(label), frappe.bold(number)),
			title=_("Invalid phone number"),
		)
	return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
