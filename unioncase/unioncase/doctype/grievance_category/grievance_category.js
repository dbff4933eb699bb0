// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.ui.form.on("Grievance Category", {
	setup(frm) {
		frm.set_query("parent_grievance_category", () => ({ filters: { is_group: 1 } }));
	},
});
