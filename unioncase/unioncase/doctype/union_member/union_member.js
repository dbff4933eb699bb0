// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.ui.form.on("Union Member", {
	setup(frm) {
		frm.set_query("workplace_union", () => ({ filters: { level: "Workplace Union" } }));
	},
});
