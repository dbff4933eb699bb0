// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.ui.form.on("Inbound Message", {
	refresh(frm) {
		// Retry: admins queue a failed (or stuck) message again at once (unioncase.intake.inbox.retry).
		const may_retry = frappe.user.has_role("System Manager") || frappe.user.has_role("Union Administrator");
		if (!may_retry || !["Failed", "Received"].includes(frm.doc.state)) return;
		frm.add_custom_button(__("Retry"), () =>
			frappe
				.xcall("unioncase.intake.inbox.retry", { name: frm.doc.name })
				.then((message) => {
					frappe.show_alert({ message, indicator: "green" });
					frm.reload_doc();
				})
		);
	},
});
