// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.ui.form.on("Union Holiday Calendar", {
	refresh(frm) {
		frm.set_intro(__("Deadline clocks stop on the weekly days off and on each holiday listed here."));
	},
});
