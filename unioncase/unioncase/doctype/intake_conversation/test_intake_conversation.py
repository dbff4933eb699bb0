"""The guided conversation's state: no number in it, and no official reads it."""

import json

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.intake import guided, handle, inbox
from unioncase.tests.hierarchy_data import ensure_hierarchy, make_official
from unioncase.tests.rest_client import RestSession

NUMBER = "+6281277001122"
OFFICIAL = "t.branch.bogor@test.unioncase.org"


class TestIntakeConversation(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		make_official(OFFICIAL, "Branch Official", "T Cabang Bogor")

	def test_the_state_holds_no_number_and_only_system_managers_read_it(self):
		digest = handle.address_hash(NUMBER)
		frappe.db.delete(guided.CONVERSATION, {"address_hash": digest})
		name, _created = inbox.receive(
			"WhatsApp", f"wamid.TCONV{frappe.generate_hash(length=8)}", {"message": {}}, summary="t"
		)
		result = guided.handle(
			"WhatsApp",
			guided.Sender(NUMBER, digest, union="T Cabang Bogor"),
			"Halo",
			None,
			frappe.get_doc(inbox.INBOUND, name),
		)
		self.assertIsNone(result.grievance)
		self.assertEqual(len(result.prompts), 2, "the welcome and the first question")
		row = frappe.db.get_value(guided.CONVERSATION, {"address_hash": digest}, "*", as_dict=True)
		self.assertEqual((row.state, row.step, row.language), ("Active", "workplace", "id"))
		stored = json.dumps(row, default=str)
		for form in (NUMBER, NUMBER[1:], NUMBER[3:], "0" + NUMBER[3:]):
			self.assertNotIn(form, stored)
		self.assertEqual(handle.resolve(row.contact_handle), NUMBER, "the number is in the handle, encrypted")
		frappe.db.commit()
		frappe.utils.background_jobs.get_queue("short").empty()
		official = RestSession(OFFICIAL)
		self.assertEqual(official.get(f"/api/resource/{guided.CONVERSATION}/{row.name}").status_code, 403)
		self.assertEqual(official.get(f"/api/resource/{guided.CONVERSATION}").status_code, 403)
		# prompts of a conversation without a case: no official reads them either
		listed = official.get(
			"/api/resource/Case Message", filters=[["intake_conversation", "=", row.name]]
		).json()["data"]
		self.assertEqual(listed, [])
		guided.expire(frappe.get_doc(guided.CONVERSATION, row.name))
		self.assertFalse(frappe.db.exists(handle.HANDLE, row.contact_handle))
		self.assertEqual(frappe.db.count("Case Message", {"intake_conversation": row.name}), 0)
		frappe.db.commit()
