// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt
// Shared filters: unioncase/public/js/report_filters.js (hooks.app_include_js).

frappe.query_reports["Outcomes and Remedies"] = {
	filters: unioncase.reports.filters([unioncase.reports.filter.group_by("category")]),
	onload: unioncase.reports.load_group_by_choices,
};
