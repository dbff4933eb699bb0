// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.query_reports["Grievance Summary"] = {
	filters: [
		{ fieldname: "from_date", label: __("Received From"), fieldtype: "Date" },
		{ fieldname: "to_date", label: __("Received To"), fieldtype: "Date" },
		{ fieldname: "kind", label: __("Kind"), fieldtype: "Select", options: ["", "Complaint", "Aspiration"] },
		{ fieldname: "status", label: __("Status"), fieldtype: "Select", options: ["", "Open", "Resolved", "Closed", "Rejected"] },
		{ fieldname: "category", label: __("Category"), fieldtype: "Link", options: "Grievance Category" },
		{ fieldname: "severity", label: __("Severity"), fieldtype: "Select", options: ["", "Low", "Medium", "High", "Critical"] },
		{ fieldname: "channel", label: __("Channel"), fieldtype: "Select", options: ["", "Web", "Email", "WhatsApp", "SMS", "Social Media", "Walk-in", "Phone", "Other"] },
	],
};
