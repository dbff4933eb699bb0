// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.listview_settings["Member Broadcast Recipient"] = {
	// the delivery report names the member (by member number), never their number
	add_fields: ["status", "member", "broadcast"],
	get_indicator(doc) {
		const colour = { Queued: "gray", Sending: "orange", Sent: "blue", Delivered: "green", Read: "green", Failed: "red" };
		return [__(doc.status), colour[doc.status] || "gray", `status,=,${doc.status}`];
	},
};
