// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.ui.form.on("Union", {
	setup(frm) {
		// A parent sits at a higher level; workplace unions have no children.
		frm.set_query("parent_union", () => ({ filters: { is_group: 1 } }));
	},
});
