// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

// Identity Custodians who add contact columns to the list see them masked (public/js/masking.js).
frappe.listview_settings["Union Member"] = {
	formatters: {
		phone: (value) => unioncase.privacy.mask_phone(value),
		email: (value) => unioncase.privacy.mask_email(value),
	},
};
