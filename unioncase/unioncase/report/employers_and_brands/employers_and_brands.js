// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt
// Shared filters: unioncase/public/js/report_filters.js (hooks.app_include_js).

frappe.query_reports["Employers and Brands"] = {
	filters: unioncase.reports.filters([
		{
			fieldname: "view",
			label: __("View"),
			fieldtype: "Select",
			options: [
				{ value: "Employer", label: __("Employer") },
				{ value: "Brand or Buyer", label: __("Brand or Buyer") },
			],
			default: "Employer",
		},
	]),
};
