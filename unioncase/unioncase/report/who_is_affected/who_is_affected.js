// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt
// Shared filters: unioncase/public/js/report_filters.js (hooks.app_include_js).

frappe.query_reports["Who Is Affected"] = {
	filters: unioncase.reports.filters([
		{
			fieldname: "group_by",
			label: __("Group By"),
			fieldtype: "Select",
			options: [
				{ value: "category", label: __("Category") },
				{ value: "sector", label: __("Sector") },
			],
			default: "category",
		},
	]),
};
