// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.ui.form.on("Grievance", {
	setup(frm) {
		// Offer only what validation accepts: workplaces inside the owning union, members of the workplace.
		frm.set_query("workplace_union", () => ({
			filters: Object.assign(
				{ level: "Workplace Union" },
				frm.doc.owning_union
					? { name: ["descendants of (inclusive)", frm.doc.owning_union] }
					: {}
			),
		}));
		frm.set_query("member", () => ({
			filters: frm.doc.workplace_union ? { workplace_union: frm.doc.workplace_union } : {},
		}));
		frm.set_query("category", () => ({ filters: { disabled: 0 } }));
	},

	before_workflow_action(frm) {
		// An escalation or a return needs its reason, recorded with the hop (unioncase/workflows/escalation.py).
		const action = frm.selected_workflow_action;
		const moves = frm.doc.workflow_state === "Escalated" && action === "Return to Lower Union";
		if (action !== "Escalate" && !moves) return;
		// Frappe froze the form for the action: the prompt must be reachable, and closing it cancels.
		frappe.dom.unfreeze();
		return new Promise((resolve, reject) => {
			let submitted = false;
			const dialog = frappe.prompt(
				{
					fieldname: "reason",
					fieldtype: "Small Text",
					label: __("Reason for Escalating or Returning"),
					reqd: 1,
				},
				({ reason }) => {
					submitted = true;
					frappe.db
						.set_value(frm.doctype, frm.docname, "escalation_reason", reason)
						.then(resolve, reject);
				},
				__(action),
				__(action)
			);
			dialog.onhide = () => {
				if (!submitted) reject();
			};
		});
	},

	workplace_union(frm) {
		if (frm.doc.member) frm.set_value("member", null);
	},
});
