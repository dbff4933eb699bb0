"""Consent Events recorded before consent had a purpose were all about holding the worker's data."""

import frappe

from unioncase.privacy.consent import CONSENT_EVENT, DATA_PROCESSING


def execute():
	frappe.db.sql(
		f"update `tab{CONSENT_EVENT}` set purpose = %s where ifnull(purpose, '') = ''", DATA_PROCESSING
	)
