// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

// Identity Custodians who add contact columns to the list see them masked, as in notifications
// (unioncase/privacy/masking.py); the form shows them in full.
frappe.listview_settings["Union Member"] = {
	formatters: {
		phone(value) {
			const digits = (value || "").replace(/\D/g, "");
			if (!digits) return "";
			if (digits.length < 8) return "****";
			const national = digits.startsWith("62") ? digits.slice(2) : digits.replace(/^0/, "");
			return `+62 ${national.slice(0, 3)} **** ${national.slice(-4)}`;
		},
		email(value) {
			const [local, domain] = (value || "").split("@");
			if (!value) return "";
			return domain ? `${local.slice(0, 1)}****@${domain}` : "****";
		},
	},
};
