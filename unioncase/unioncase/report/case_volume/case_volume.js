// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt
// Shared filters: unioncase/public/js/report_filters.js (hooks.app_include_js).

frappe.query_reports["Case Volume"] = {
	filters: unioncase.reports.filters([
		{ fieldname: "period", label: __("Period"), fieldtype: "Select", options: ["Week", "Month", "Quarter", "Year"], default: "Month" },
		unioncase.reports.filter.group_by("category"),
	]),
	onload: unioncase.reports.load_group_by_choices,
};
