// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.listview_settings["Grievance"] = {
	add_fields: ["status", "severity", "owning_union", "is_overdue"],
	filters: [["status", "=", "Open"]],
	get_indicator(doc) {
		const colors = { Open: "red", Resolved: "green", Closed: "gray", Rejected: "darkgrey" };
		if (doc.status === "Open" && doc.is_overdue) {
			return [__("Overdue"), "orange", "status,=,Open|is_overdue,=,1"];
		}
		return [__(doc.status), colors[doc.status] || "blue", "status,=," + doc.status];
	},
};
