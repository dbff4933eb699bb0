// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.ui.form.on("SMS Intake Settings", {
	refresh(frm) {
		frm.add_custom_button(__("Gateway (SMS Settings)"), () => frappe.set_route("Form", "SMS Settings"));
	},
});
