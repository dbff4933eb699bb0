# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.privacy.audit import ACCESS_LOG, log_identity_access
from unioncase.tests.hierarchy_data import ensure_hierarchy


class TestIdentityAccessLog(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_only_admins_read_it_and_nobody_edits_it(self):
		frappe.set_user("t.branch.bogor@test.unioncase.org")
		log_identity_access("View", "Grievance", None)
		entry = frappe.get_last_doc(ACCESS_LOG, filters={"user": "t.branch.bogor@test.unioncase.org"})
		self.assertFalse(frappe.has_permission(ACCESS_LOG, "read"))
		frappe.set_user("t.admin@test.unioncase.org")
		self.assertTrue(frappe.has_permission(ACCESS_LOG, "read", doc=entry.name))
		self.assertFalse(frappe.has_permission(ACCESS_LOG, "write", doc=entry.name))
		frappe.set_user("Administrator")
		entry.action = "Export"
		with self.assertRaises(frappe.PermissionError):
			entry.save()
