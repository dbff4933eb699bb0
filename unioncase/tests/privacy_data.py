"""Members and cases with a named, consenting reporter, for the consent, retention and erasure tests."""

import frappe

from unioncase.privacy.consent import current_consent_text, make_default_consent_texts, record_consent
from unioncase.tests.harness import users_unthrottled
from unioncase.tests.hierarchy_data import PASSWORD

WORKPLACE = "T PUK Bogor Satu"  # in the committed test tree (hierarchy_data.TREE)


def consent_text() -> str:
	make_default_consent_texts()
	return current_consent_text("id")


def make_member(email: str | None = None, **values):
	member = frappe.get_doc(
		{
			"doctype": "Union Member",
			"full_name": f"Siti Rahayu {frappe.generate_hash(length=5)}",
			"workplace_union": WORKPLACE,
			"phone": "0812-3456-7890",
			"email": email,
			"national_id": "3201234567890001",
			"address": "Jl. Melati 4, Bogor",
			"date_of_birth": "1990-05-17",
			"gender": "Female",
			**values,
		}
	)
	return record_consent(member, consent_text()).insert()


def make_case(member: str | None = None, **values):
	case = frappe.get_doc(
		{
			"doctype": "Grievance",
			"subject": "Upah lembur tidak dibayar",
			"kind": "Complaint",
			"owning_union": WORKPLACE,
			"member": member,
			"reporter_type": "Member" if member else "Non-member",
			"reporter_gender": "Female",
			"severity": "High",
			"workers_affected": 12,
			"description": "Siti Rahayu reports that overtime was not paid.",
			**values,
		}
	)
	return record_consent(case, consent_text()).insert()


def new_case(values: dict):
	"""Insert a case as an intake does: a reporter who is named was read the consent text."""
	case = frappe.get_doc(values)
	if not case.is_anonymous:
		record_consent(case, consent_text())
	return case.insert()


def make_website_user(email: str) -> str:
	"""A worker's own login (no roles: a website user), with the test password."""
	if not frappe.db.exists("User", email):
		with users_unthrottled():
			frappe.get_doc(
				{
					"doctype": "User",
					"email": email,
					"first_name": "Siti",
					"send_welcome_email": 0,
					"new_password": PASSWORD,
				}
			).insert(ignore_permissions=True)
	return email


def ensure_role(role: str):
	if not frappe.db.exists("Role", role):
		frappe.get_doc({"doctype": "Role", "role_name": role, "desk_access": 1}).insert(
			ignore_permissions=True
		)


def ensure_outgoing_email_account():
	"""Frappe's request flows send mail; on a site without an outgoing account, sendmail refuses.

	Nothing is delivered: mail only waits in the Email Queue, which no scheduler flushes in tests.
	"""
	if frappe.db.exists("Email Account", {"default_outgoing": 1}):
		return
	if frappe.db.exists("Email Account", "UnionCase Test Outbox"):  # another test made its own the default
		frappe.db.set_value("Email Account", "UnionCase Test Outbox", "default_outgoing", 1)
		return
	frappe.get_doc(
		{
			"doctype": "Email Account",
			"email_account_name": "UnionCase Test Outbox",
			"email_id": "outbox@test.unioncase.org",
			"enable_outgoing": 1,
			"default_outgoing": 1,
			"smtp_server": "smtp.invalid",
			"smtp_port": "587",
			"no_smtp_authentication": 1,
		}
	).insert(ignore_permissions=True)
