// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.ui.form.on("Grievance Deadline Settings", {
	refresh(frm) {
		frm.set_intro(__("Deadline rules are kept in Grievance Deadline Policy; calendars in Union Holiday Calendar."));
	},
});
