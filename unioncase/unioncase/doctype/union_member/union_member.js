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
		if (!frm.is_new() && frm.perm[0] && frm.perm[0].write) {
			frm.add_custom_button(__("Consent to Broadcasts"), () => {
				frappe.prompt(
					{
						fieldname: "given",
						fieldtype: "Select",
						label: __("The member"),
						options: [
							{ value: "1", label: __("Agrees to receive the union's announcements") },
							{ value: "0", label: __("Does not want the union's announcements") },
						],
						reqd: 1,
					},
					(values) =>
						frappe
							.call("unioncase.privacy.consent.record_broadcast_consent", {
								member: frm.doc.name,
								given: values.given,
							})
							.then(() => frappe.show_alert(__("Recorded")))
							.then(() => frm.reload_doc()),
					__("Consent to Broadcasts"),
					__("Record")
				);
			});
		}
		const may_erase =
			(frm.perm[1] && frm.perm[1].write) ||
			frappe.user.has_role(["Union Administrator", "System Manager"]);
		if (!frm.is_new() && !frm.doc.redacted_on && may_erase) {
			// Identity Custodians (permission level 1) and admins; the server checks scope again
			frm.add_custom_button(__("Erase Personal Data"), () => {
				frappe.confirm(
					__(
						"The member's identity, every case they reported and every copy of them will be erased. This cannot be undone. Continue?"
					),
					() =>
						frappe
							.call({
								method: "unioncase.privacy.erasure.erase_member",
								args: { member: frm.doc.name },
								freeze: true,
							})
							.then(() => frm.reload_doc())
				);
			});
		}
	},
});
