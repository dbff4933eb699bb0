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

// The conversation with the worker (unioncase/intake/conversation.py): the timeline on the form and
// the Reply dialog. The worker's address never reaches the browser; the server resolves the handle.
frappe.ui.form.on("Grievance", {
	refresh(frm) {
		if (frm.is_new()) return;
		unioncase.conversation.load(frm);
	},
});

unioncase.conversation = {
	load(frm) {
		const name = frm.docname;
		return frappe
			.xcall("unioncase.intake.conversation.get_conversation", { case: name }, "GET")
			.then((conversation) => {
				if (frm.docname !== name) return;
				unioncase.conversation.render(frm, conversation);
				if (conversation.channels.length && frm.perm[0] && frm.perm[0].write) {
					frm.add_custom_button(__("Reply to Worker"), () =>
						unioncase.conversation.reply_dialog(frm, conversation)
					);
				}
			})
			.catch(() => {}); // refused (out of scope): the form shows no conversation
	},

	render(frm, conversation) {
		const field = frm.get_field("conversation_html");
		if (!field) return;
		const rows = conversation.messages.map((message) => {
			const from_worker = message.direction === "From Worker";
			const who = from_worker ? __("Worker") : message.sent_by || __("Union");
			const when = message.sent_on ? frappe.datetime.str_to_user(message.sent_on) : "";
			return `<div class="uc-message ${from_worker ? "uc-from-worker" : "uc-to-worker"}"
				style="margin:0 0 var(--margin-sm);padding:var(--padding-sm);border-radius:var(--border-radius);
				background:${from_worker ? "var(--bg-light-gray)" : "var(--bg-blue)"}">
				<div class="text-muted small">${frappe.utils.escape_html(who)} · ${__(message.channel)} ·
					${__(message.delivery_status || "")} ${when ? "· " + when : ""}</div>
				<div style="white-space:pre-wrap">${frappe.utils.escape_html(message.content || "")}</div>
			</div>`;
		});
		field.$wrapper.html(
			rows.length
				? rows.join("")
				: `<p class="text-muted">${__("No messages with the worker yet.")}</p>`
		);
	},

	reply_dialog(frm, conversation) {
		const dialog = new frappe.ui.Dialog({
			title: __("Reply to Worker"),
			fields: [
				{
					fieldname: "channel",
					fieldtype: "Select",
					label: __("Send By"),
					options: conversation.channels.map((value) => ({ value, label: __(value) })),
					default: conversation.default_channel,
					reqd: 1,
					description: __("Preselected: where the worker last wrote."),
				},
				{ fieldname: "message", fieldtype: "Small Text", label: __("Message"), reqd: 1 },
			],
			primary_action_label: __("Send"),
			primary_action({ channel, message }) {
				dialog.disable_primary_action();
				frappe
					.xcall(
						"unioncase.intake.conversation.reply",
						{ case: frm.docname, message, channel },
						"POST"
					)
					.then((queued) => {
						dialog.hide();
						frappe.show_alert({
							message: __("Reply {0}", [__(queued.delivery_status)]),
							indicator: "green",
						});
						frm.reload_doc();
					})
					.catch(() => {}) // the server's refusal is already shown in a message
					.finally(() => dialog.enable_primary_action());
			},
		});
		dialog.set_value("channel", conversation.default_channel);
		dialog.show();
		return dialog;
	},
};
