// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

frappe.treeview_settings["Union"] = {
	breadcrumb: "UnionCase",
	title: __("Union Hierarchy"),
	get_tree_root: false,
	// officials start from their own union, not from the (invisible) top of the tree
	get_tree_nodes: "unioncase.hierarchy.api.get_union_tree_nodes",
	root_label: __("All Unions"),
	// get_tree_root stays off (the server answers the root with the official's own unions), so the
	// view builds the tree itself on first visit; Frappe only does that from on_show or get_root.
	onload(treeview) {
		treeview.make_tree();
	},
	fields: [
		{ fieldtype: "Data", fieldname: "union_name", label: __("Union Name"), reqd: true },
		{
			fieldtype: "Select",
			fieldname: "level",
			label: __("Level"),
			options: ["Confederation", "Federation", "Branch", "Workplace Union"],
			reqd: true,
		},
	],
	ignore_fields: ["parent_union"],
};
