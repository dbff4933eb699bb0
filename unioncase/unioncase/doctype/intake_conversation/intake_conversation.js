// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

// A worker's place in the guided first contact: kept by the intake job, read only here.
frappe.ui.form.on("Intake Conversation", {
	refresh(frm) {
		frm.disable_save();
		if (frm.doc.grievance) {
			frm.add_custom_button(__("Open Case"), () => frappe.set_route("Form", "Grievance", frm.doc.grievance));
		}
	},
});
