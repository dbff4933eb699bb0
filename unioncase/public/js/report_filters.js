// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt
//
// The filters the analytics Script Reports share (unioncase/unioncase/report/*/*.js): loaded on every
// Desk page by hooks.app_include_js, before any report's own script runs, so a report lists only its
// own filters and names the shared ones.
frappe.provide("unioncase.reports");

unioncase.reports.filter = {
	from_date: () => ({
		fieldname: "from_date",
		label: __("From Date"),
		fieldtype: "Date",
		default: frappe.datetime.add_months(frappe.datetime.month_start(), -12),
	}),
	to_date: () => ({ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today() }),
	group_by: (default_value) => ({ fieldname: "group_by", label: __("Group By"), fieldtype: "Select", options: [], default: default_value }),
	union: () => ({ fieldname: "union", label: __("Union"), fieldtype: "Link", options: "Union" }),
	category: () => ({ fieldname: "category", label: __("Category"), fieldtype: "Link", options: "Grievance Category" }),
	kind: () => ({ fieldname: "kind", label: __("Kind"), fieldtype: "Select", options: ["", "Complaint", "Aspiration"] }),
	severity: () => ({ fieldname: "severity", label: __("Severity"), fieldtype: "Select", options: ["", "Low", "Medium", "High", "Critical"] }),
	level: () => ({
		fieldname: "level",
		label: __("Union Level"),
		fieldtype: "Select",
		options: ["", "Confederation", "Federation", "Branch", "Workplace Union"],
	}),
	sector: () => ({ fieldname: "sector", label: __("Sector"), fieldtype: "Link", options: "Union Sector" }),
	employer: () => ({ fieldname: "employer", label: __("Employer"), fieldtype: "Link", options: "Employer" }),
	stage: () => ({ fieldname: "stage", label: __("Stage"), fieldtype: "Link", options: "Workflow State" }),
};

// The date range, then the report's own filters, then the scope and case filters every report offers.
unioncase.reports.filters = function (own = [], { dates = true, extra = [] } = {}) {
	const f = unioncase.reports.filter;
	return [
		...(dates ? [f.from_date(), f.to_date()] : []),
		...own,
		f.union(),
		f.category(),
		f.kind(),
		f.severity(),
		f.level(),
		f.sector(),
		f.employer(),
		...extra,
	];
};

// A report's Group By offers the fixed dimensions and the site's own custom fields (from the server).
unioncase.reports.load_group_by_choices = function (report) {
	const filter = report.get_filter("group_by");
	if (!filter) return;
	frappe.call({ method: "unioncase.reports.api.group_by_choices", type: "GET" }).then((r) => {
		filter.df.options = r.message;
		filter.refresh();
		filter.set_input(filter.get_value() || filter.df.default);
	});
};
