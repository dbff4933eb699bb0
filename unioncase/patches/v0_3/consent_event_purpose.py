"""Consent Events recorded before consent had a purpose were all about holding the worker's data; the
index a member's latest event of a purpose is read from."""

import frappe

from unioncase.privacy.consent import CONSENT_EVENT, DATA_PROCESSING
from unioncase.unioncase.doctype.consent_event.consent_event import on_doctype_update


def execute():
	on_doctype_update()
	frappe.db.sql(
		f"update `tab{CONSENT_EVENT}` set purpose = %s where ifnull(purpose, '') = ''", DATA_PROCESSING
	)
