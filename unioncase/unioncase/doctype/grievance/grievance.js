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
		// Frappe froze the form for the action: the dialog must be reachable.
		frappe.dom.unfreeze();
		frm.selected_workflow_action = null;
		unioncase.escalation_dialog(frm, action);
		// The dialog applies the action itself (with its reason, in one request); Frappe's own apply
		// never runs, and a closed dialog simply leaves the case as it was (no rejection to report).
		return new Promise(() => {});
	},

	workplace_union(frm) {
		if (frm.doc.member) frm.set_value("member", null);
	},
});

frappe.provide("unioncase");

// An explicit dialog on both v15 and v16: v15's frappe.prompt hides itself before it calls back.
unioncase.escalation_dialog = function (frm, action) {
	const dialog = new frappe.ui.Dialog({
		title: __(action),
		fields: [
			{
				fieldname: "reason",
				fieldtype: "Small Text",
				label: __("Reason for Escalating or Returning"),
				reqd: 1,
			},
		],
		primary_action_label: __(action),
		primary_action({ reason }) {
			dialog.disable_primary_action();
			frappe
				.xcall(
					"unioncase.workflows.escalation.escalate",
					{ name: frm.docname, reason, action },
					"POST"
				)
				.then((doc) => {
					dialog.hide();
					frappe.model.sync(doc);
					frm.refresh();
					frm.script_manager.trigger("after_workflow_action");
				})
				.catch(() => {}) // the server's refusal is already shown in a message
				.finally(() => dialog.enable_primary_action());
		},
	});
	dialog.show();
	return dialog;
};
