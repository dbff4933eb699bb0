// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.ui.form.on("Grievance Deadline Policy", {
	setup(frm) {
		frm.set_query("category", () => ({ filters: { disabled: 0 } }));
	},
});
