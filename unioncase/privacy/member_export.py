"""Everything UnionCase holds about one member, as JSON (the right of access, UU PDP Art. 7 / GDPR Art. 15).

Who may export: the Union Administrator (and System Manager), and an Identity Custodian for members
in their part of the tree. Officials without the custodian role may not: the export gathers every
case's identity fields, which the identity policy keeps from them. Each export is recorded in
Frappe's Access Log (user, member, time; Frappe writes it through its deferred-insert queue).
"""

import frappe
from frappe import _
from frappe.core.doctype.access_log.access_log import make_access_log

from unioncase.hierarchy.scope import allowed_unions
from unioncase.privacy.consent import consent_history
from unioncase.privacy.fields import is_privacy_admin
from unioncase.privacy.identity import IDENTITY_FIELDS, IDENTITY_ROLE
from unioncase.privacy.redaction import GRIEVANCE, LOG, MEMBER, cases_reported_by

CASE_FIELDS = (
	"name",
	"subject",
	"kind",
	"status",
	"owning_union",
	"workplace_union",
	"employer",
	"category",
	"severity",
	"description",
	"received_on",
	"resolved_on",
	"reporter_type",
	"member",
	"reporter_name",
	"reporter_phone",
	"reporter_email",
	"reporter_gender",
	"consent_given",
	"consent_text_version",
	"consent_given_on",
	"consent_withdrawn_on",
	"outcome",
	"remedy",
	"closure_notes",
	"redacted_on",
)


# state-changing: each export writes an Access Log entry, so only a POST may run it
@frappe.whitelist(methods=["POST"])
def export_member_data(member: str) -> dict:
	"""The member's data as a dict (the JSON the caller downloads); the export is access-logged."""
	check_export_permission(member)
	data = member_data(member, in_scope_only=not is_privacy_admin())
	make_access_log(
		doctype=MEMBER,
		document=member,
		method="unioncase.privacy.member_export.export_member_data",
		file_type="JSON",
	)
	return data


def check_export_permission(member: str):
	if not frappe.db.exists(MEMBER, member):
		frappe.throw(_("Member {0} does not exist.").format(frappe.bold(member)), frappe.DoesNotExistError)
	if is_privacy_admin():
		return
	if IDENTITY_ROLE in frappe.get_roles():
		# custodians must be attached to a union: a custodian without an attachment exports nothing
		unions = allowed_unions(doctype=MEMBER)
		if unions and frappe.db.get_value(MEMBER, member, "workplace_union") in unions:
			return
	frappe.throw(
		_("Only an Identity Custodian for this member's union or a Union Administrator can export it."),
		frappe.PermissionError,
		title=_("Not permitted"),
	)


def member_data(member: str, include_sealed: bool = False, in_scope_only: bool = False) -> dict:
	"""Member record, consent history, reported cases with their comments and communications, redactions.

	A confidential case the member reported is included for the member's own request
	(`include_sealed`) or for a custodian named on that case; other exporters do not learn it exists.
	A custodian's export (`in_scope_only`) holds only the cases in their part of the tree.
	"""
	from unioncase.privacy.confidential import SEALED, is_named_custodian

	record = frappe.get_doc(MEMBER, member).as_dict()
	emails = [record["email"]] if record.get("email") else []
	cases = []
	for name in cases_reported_by(members=[member], emails=emails):
		if in_scope_only and not frappe.has_permission(GRIEVANCE, doc=name):
			continue
		case = frappe.db.get_value(GRIEVANCE, name, list(CASE_FIELDS), as_dict=True)
		sealed = frappe.db.get_value(SEALED, name, list(IDENTITY_FIELDS[GRIEVANCE]), as_dict=True)
		if sealed:
			if not (include_sealed or is_named_custodian(frappe.get_doc(GRIEVANCE, name))):
				continue
			case.update(sealed)
		cases.append(case)
	for case in cases:
		case["consent_history"] = consent_history(GRIEVANCE, case.name)
		case["comments"] = frappe.get_all(
			"Comment",
			filters={"reference_doctype": GRIEVANCE, "reference_name": case.name, "comment_type": "Comment"},
			fields=["creation", "comment_email", "content"],
			order_by="creation",
		)
		case["communications"] = frappe.get_all(
			"Communication",
			filters={"reference_doctype": GRIEVANCE, "reference_name": case.name},
			fields=["creation", "communication_medium", "sent_or_received", "sender", "subject", "content"],
			order_by="creation",
		)
	return {
		"member": record,
		"consent_history": consent_history(MEMBER, member),
		"cases": cases,
		"redactions": frappe.get_all(
			LOG,
			filters={"reference_name": ["in", [member, *(case.name for case in cases)]]},
			fields=["reference_doctype", "reference_name", "rule", "fields_redacted", "redacted_on"],
			order_by="redacted_on",
		),
	}
