// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt
// Shared filters: unioncase/public/js/report_filters.js (hooks.app_include_js).

frappe.query_reports["Open Case Ageing"] = {
	filters: unioncase.reports.filters([], { dates: false, extra: [unioncase.reports.filter.stage()] }),

	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		if (column.fieldname === "overdue" && data && data.overdue > 0) {
			value = `<span style="color: var(--red-500); font-weight: 600">${value}</span>`;
		}
		return value;
	},
};
