"""Write answers: a save answers with the saved document, which Frappe does not strip as it strips reads.

Save, insert, set_value, REST POST/PUT and workflow actions answer with the document; identity fields
the user may not read leave it here, in an after_request hook. Frappe logs and swallows an exception
from such a hook and sends the original body, so the strip fails closed: on any error the answer is
replaced by a generic error that carries no document.
"""

import json

import frappe
from frappe import _

from unioncase.privacy.fields import PROTECTED_DOCTYPES, has_identity_access, identity_fieldnames

FAILED_STATUS = 500
# On a test site (allow_tests), this cache key makes the strip fail, so a test sees it fail closed.
STRIP_FAULT_KEY = "unioncase:identity-strip-fault"


def strip_identity_from_response(response, request=None):
	"""after_request: identity fields the user may not read leave every JSON answer."""
	try:
		strip_answer(response)
	except Exception:
		withhold_answer(response)


def strip_answer(response):
	if response is None or frappe.session.user == "Administrator" or response.mimetype != "application/json":
		return
	body = response.get_data(as_text=True)
	hidden = {
		doctype
		for doctype in PROTECTED_DOCTYPES
		if json.dumps(doctype) in body and not has_identity_access(doctype)
	}
	if not hidden:
		return
	if frappe.conf.allow_tests and frappe.cache.get_value(STRIP_FAULT_KEY):
		raise RuntimeError("identity strip fault injected for a test")
	data = json.loads(body)
	if strip_documents(data, {doctype: identity_fieldnames(doctype) for doctype in hidden}):
		response.set_data(json.dumps(data, default=str))


def strip_documents(data, fields_by_doctype: dict[str, set[str]]) -> bool:
	"""Remove identity keys from every document dict in a JSON answer; True when something was removed."""
	removed = False
	if isinstance(data, dict):
		for fieldname in fields_by_doctype.get(data.get("doctype"), ()):
			if data.pop(fieldname, None) is not None:
				removed = True
		for value in data.values():
			removed = strip_documents(value, fields_by_doctype) or removed
	elif isinstance(data, list):
		for value in data:
			removed = strip_documents(value, fields_by_doctype) or removed
	return removed


def withhold_answer(response):
	"""The strip failed: the answer says so and carries nothing else (the write itself stands)."""
	response.status_code = FAILED_STATUS
	response.mimetype = "application/json"
	response.set_data(
		json.dumps(
			{
				"exc_type": "IdentityProtectionError",
				"message": _(
					"The answer was withheld to protect workers' identities. Reload to see the result."
				),
			}
		)
	)
	frappe.logger().error("Identity strip failed: the answer was withheld", exc_info=True)
