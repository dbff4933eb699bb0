// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.ui.form.on("Inbound Message", {
	refresh(frm) {
		unioncase_inbox.add_merge_button(frm);
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

// Merge: a message that made no case joins an existing one (unioncase.intake.inbox.merge).
const unioncase_inbox = {
	add_merge_button(frm) {
		if (frm.doc.grievance || frm.doc.state === "Processed") return;
		frm.add_custom_button(__("Merge into Case"), () => {
			const dialog = new frappe.ui.Dialog({
				title: __("Merge into Case"),
				fields: [
					{
						fieldname: "case",
						fieldtype: "Link",
						options: "Grievance",
						label: __("Case"),
						reqd: 1,
					},
				],
				primary_action_label: __("Merge"),
				primary_action({ case: name }) {
					dialog.disable_primary_action();
					frappe
						.xcall("unioncase.intake.inbox.merge", { name: frm.doc.name, case: name }, "POST")
						.then(() => {
							dialog.hide();
							frm.reload_doc();
						})
						.catch(() => {})
						.finally(() => dialog.enable_primary_action());
				},
			});
			dialog.show();
		});
	},
};
