// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.listview_settings["Comparable Export"] = {
	onload(listview) {
		listview.page.add_inner_button(__("New Comparable Export"), () => {
			frappe.prompt(
				[
					{ fieldname: "union", label: __("Union"), fieldtype: "Link", options: "Union" },
					{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date" },
					{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date" },
				],
				(values) => {
					frappe
						.call({ method: "unioncase.reports.export.start_export", type: "POST", args: values })
						.then((r) => frappe.set_route("Form", "Comparable Export", r.message));
				},
				__("New Comparable Export"),
				__("Start")
			);
		});
	},
};
