// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.query_reports["Case Volume"] = {
	filters: [
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date", default: frappe.datetime.add_months(frappe.datetime.month_start(), -12) },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today() },
		{ fieldname: "period", label: __("Period"), fieldtype: "Select", options: ["Week", "Month", "Quarter", "Year"], default: "Month" },
		{ fieldname: "group_by", label: __("Group By"), fieldtype: "Select", options: [], default: "category" },
		{ fieldname: "union", label: __("Union"), fieldtype: "Link", options: "Union" },
		{ fieldname: "category", label: __("Category"), fieldtype: "Link", options: "Grievance Category" },
		{ fieldname: "kind", label: __("Kind"), fieldtype: "Select", options: ["", "Complaint", "Aspiration"] },
		{ fieldname: "severity", label: __("Severity"), fieldtype: "Select", options: ["", "Low", "Medium", "High", "Critical"] },
		{ fieldname: "level", label: __("Union Level"), fieldtype: "Select", options: ["", "Confederation", "Federation", "Branch", "Workplace Union"] },
		{ fieldname: "sector", label: __("Sector"), fieldtype: "Link", options: "Union Sector" },
		{ fieldname: "employer", label: __("Employer"), fieldtype: "Link", options: "Employer" },
	],
	onload(report) {
		const filter = report.get_filter("group_by");
		if (!filter) return;
		frappe.call({ method: "unioncase.reports.api.group_by_choices", type: "GET" }).then((r) => {
			filter.df.options = r.message;
			filter.refresh();
			filter.set_input(filter.get_value() || filter.df.default);
		});
	},
};
