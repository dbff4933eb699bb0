# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class MemberBroadcastRecipient(Document):
	pass


def on_doctype_update():
	# one row a member and broadcast; the job reads a broadcast's rows by status
	frappe.db.add_unique("Member Broadcast Recipient", ["broadcast", "member"], "unique_broadcast_member")
	frappe.db.add_index("Member Broadcast Recipient", ["broadcast", "status"], "broadcast_status")
