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

	workplace_union(frm) {
		if (frm.doc.member) frm.set_value("member", null);
	},
});
