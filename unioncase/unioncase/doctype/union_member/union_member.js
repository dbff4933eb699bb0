// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.ui.form.on("Union Member", {
	setup(frm) {
		frm.set_query("workplace_union", () => ({ filters: { level: "Workplace Union" } }));
	},
	refresh(frm) {
		if (!frm.is_new() && frm.doc.consent_given) {
			frm.add_custom_button(__("Withdraw Consent"), () => {
				frappe.confirm(
					__("The member's identity will be removed from every case they reported. Continue?"),
					() =>
						frappe
							.call("unioncase.privacy.consent.withdraw_consent", { member: frm.doc.name })
							.then(() => frm.reload_doc())
				);
			});
		}
	},
});
