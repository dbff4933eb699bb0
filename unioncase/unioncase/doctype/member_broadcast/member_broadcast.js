// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

const BROADCAST = "unioncase.intake.broadcast";

frappe.ui.form.on("Member Broadcast", {
	setup(frm) {
		frappe.call({ method: `${BROADCAST}.template_choices`, type: "GET" }).then((r) => {
			frm.broadcast_templates = r.message || [];
			frm.set_df_property(
				"template",
				"options",
				frm.broadcast_templates.map((row) => row.template_name)
			);
		});
	},
	refresh(frm) {
		show_progress(frm);
		if (frm.is_new()) return;
		if (frm.doc.status !== "Draft") {
			// what was sent stays as it was sent (the server refuses a change too)
			["union", "channel", "template", "parameters", "message"].forEach((field) =>
				frm.set_df_property(field, "read_only", 1)
			);
			frm.disable_save();
		}
		if (frm.doc.status === "Draft") {
			frm.add_custom_button(__("Preview Recipients"), () => preview(frm));
			frm.add_custom_button(__("Send"), () => confirm_and_send(frm)).addClass("btn-primary");
		}
		if (["Paused", "Failed"].includes(frm.doc.status)) {
			frm.add_custom_button(__("Resume Sending"), () => send(frm));
		}
		if (frm.doc.status !== "Draft") {
			frm.add_custom_button(__("Delivery Report"), () =>
				frappe.set_route("List", "Member Broadcast Recipient", { broadcast: frm.doc.name })
			);
		}
		poll(frm);
	},
});

function preview(frm) {
	return frappe
		.call({ method: `${BROADCAST}.preview`, args: { union: frm.doc.union, channel: frm.doc.channel } })
		.then((r) => {
			const count = r.message;
			frappe.msgprint(
				__("{0} of the {1} active members of {2} and the unions below it agreed to receive broadcasts and will get this message.", [
					count.recipients,
					count.members,
					frappe.utils.escape_html(count.union),
				]),
				__("Recipients")
			);
			return count;
		});
}

function confirm_and_send(frm) {
	frappe
		.call({ method: `${BROADCAST}.preview`, args: { union: frm.doc.union, channel: frm.doc.channel } })
		.then((r) => {
			frappe.confirm(
				__("Send this announcement to {0} members by {1}?", [r.message.recipients, __(frm.doc.channel)]),
				() => send(frm)
			);
		});
}

function send(frm) {
	frappe
		.call({ method: `${BROADCAST}.send`, args: { name: frm.doc.name }, freeze: true })
		.then(() => frm.reload_doc());
}

function show_progress(frm) {
	if (["Queued", "Sending", "Paused"].includes(frm.doc.status)) {
		frm.dashboard.show_progress(
			__("Broadcast"),
			frm.doc.progress || 0,
			__("{0} sent, {1} failed of {2}", [frm.doc.sent_count || 0, frm.doc.failed_count || 0, frm.doc.recipients_total || 0])
		);
	}
}

// No realtime server on every site: while the job sends, the form reads its progress field.
function poll(frm) {
	if (frm.broadcast_poll) clearTimeout(frm.broadcast_poll);
	if (!["Queued", "Sending"].includes(frm.doc.status)) return;
	frm.broadcast_poll = setTimeout(() => {
		frappe.call({ method: `${BROADCAST}.status_of`, args: { name: frm.doc.name }, type: "GET" }).then((r) => {
			if (r.message && (r.message.status !== frm.doc.status || r.message.progress !== frm.doc.progress)) {
				frm.reload_doc();
			} else {
				poll(frm);
			}
		});
	}, 3000);
}
