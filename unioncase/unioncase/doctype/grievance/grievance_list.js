// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.listview_settings["Grievance"] = {
	add_fields: ["status", "severity", "owning_union", "due_date"],
	filters: [["status", "=", "Open"]],
	get_indicator(doc) {
		const colors = { Open: "red", Resolved: "green", Closed: "gray", Rejected: "darkgrey" };
		if (doc.status === "Open" && doc.due_date && doc.due_date < frappe.datetime.get_today()) {
			return [__("Overdue"), "orange", "status,=,Open|due_date,<,Today"];
		}
		return [__(doc.status), colors[doc.status] || "blue", "status,=," + doc.status];
	},
};
