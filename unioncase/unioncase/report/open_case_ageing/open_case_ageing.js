// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.query_reports["Open Case Ageing"] = {
	filters: [
		{ fieldname: "union", label: __("Union"), fieldtype: "Link", options: "Union" },
		{ fieldname: "category", label: __("Category"), fieldtype: "Link", options: "Grievance Category" },
		{ fieldname: "kind", label: __("Kind"), fieldtype: "Select", options: ["", "Complaint", "Aspiration"] },
		{ fieldname: "severity", label: __("Severity"), fieldtype: "Select", options: ["", "Low", "Medium", "High", "Critical"] },
		{ fieldname: "level", label: __("Union Level"), fieldtype: "Select", options: ["", "Confederation", "Federation", "Branch", "Workplace Union"] },
		{ fieldname: "sector", label: __("Sector"), fieldtype: "Link", options: "Union Sector" },
		{ fieldname: "employer", label: __("Employer"), fieldtype: "Link", options: "Employer" },
		{ fieldname: "stage", label: __("Stage"), fieldtype: "Link", options: "Workflow State" },
	],

	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		if (column.fieldname === "overdue" && data && data.overdue > 0) {
			value = `<span style="color: var(--red-500); font-weight: 600">${value}</span>`;
		}
		return value;
	},
};
