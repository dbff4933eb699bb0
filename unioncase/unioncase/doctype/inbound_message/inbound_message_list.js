// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.listview_settings["Inbound Message"] = {
	get_indicator(doc) {
		const colours = { Received: "blue", Processed: "green", Ignored: "gray", Quarantined: "orange", Failed: "red" };
		return [__(doc.state), colours[doc.state] || "gray", "state,=," + doc.state];
	},
};
