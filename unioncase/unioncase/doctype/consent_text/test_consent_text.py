# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.privacy.consent import current_consent_text


class TestConsentText(IntegrationTestCase):
	def test_a_changed_consent_text_is_a_new_version(self):
		version = f"t{frappe.generate_hash(length=5)}"
		first = frappe.get_doc(
			{"doctype": "Consent Text", "version": version, "language": "en", "text": "First wording."}
		).insert()
		first.text = "Quietly reworded."
		with self.assertRaisesRegex(frappe.ValidationError, "Create a new version"):
			first.save()
		self.assertEqual(frappe.db.get_value("Consent Text", first.name, "text"), "First wording.")
		second = frappe.get_doc(
			{"doctype": "Consent Text", "version": f"{version}b", "language": "en", "text": "New wording."}
		).insert()
		self.assertNotEqual(first.name, second.name)
		self.assertIn(current_consent_text("en"), (first.name, second.name))
