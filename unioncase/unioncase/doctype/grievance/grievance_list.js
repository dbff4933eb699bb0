// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

// Indicator colours of the default stages; stages an admin adds show in blue.
const STAGE_COLORS = {
	Received: "blue",
	Verified: "cyan",
	"Under Investigation": "cyan",
	"In Negotiation": "orange",
	"Waiting on Worker": "gray",
	"Waiting on Employer": "gray",
	Escalated: "red",
	"In Mediation": "orange",
	"In Court": "red",
	Resolved: "green",
	Closed: "darkgrey",
	Rejected: "darkgrey",
};

frappe.listview_settings["Grievance"] = {
	add_fields: ["status", "workflow_state", "severity", "owning_union", "is_overdue", "_assign"],
	filters: [["status", "=", "Open"]],
	// Identity Custodians who add reporter contacts as columns see them masked (public/js/masking.js).
	formatters: {
		reporter_phone: (value) => unioncase.privacy.mask_phone(value),
		reporter_email: (value) => unioncase.privacy.mask_email(value),
	},
	get_indicator(doc) {
		if (doc.status === "Open" && doc.is_overdue) {
			return [__("Overdue"), "orange", "status,=,Open|is_overdue,=,1"];
		}
		const stage = doc.workflow_state || doc.status;
		return [__(stage), STAGE_COLORS[stage] || "blue", "workflow_state,=," + stage];
	},
	onload(listview) {
		// Views officials work in; "mine" and "escalated to us" depend on who is looking.
		const views = {
			[__("Mine")]: () => [["Grievance", "_assign", "like", `%${frappe.session.user}%`]],
			[__("Unassigned")]: () => [["Grievance", "_assign", "is", "not set"]],
			[__("Overdue")]: () => [["Grievance", "is_overdue", "=", 1]],
			[__("Escalated to us")]: () =>
				frappe
					.xcall("unioncase.workflows.views.my_unions")
					.then((unions) => [
						["Grievance", "workflow_state", "=", "Escalated"],
						["Grievance", "owning_union", "in", unions],
					]),
		};
		Object.entries(views).forEach(([label, filters]) => {
			listview.page.add_inner_button(
				label,
				() =>
					Promise.resolve(filters()).then((view_filters) =>
						listview.filter_area
							.clear(false)
							.then(() =>
								listview.filter_area.add([
									["Grievance", "status", "=", "Open"],
									...view_filters,
								])
							)
					),
				__("Views")
			);
		});
	},
};
