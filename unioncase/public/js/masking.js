// Copyright (c) 2026, UnionCase contributors
// For license information, please see license.txt

// Contacts in lists are masked as in notifications (unioncase/privacy/masking.py); forms show them in full.
frappe.provide("unioncase.privacy");

unioncase.privacy.mask_phone = function (value) {
	const digits = (value || "").replace(/\D/g, "");
	if (!digits) return "";
	if (digits.length < 8) return "****";
	const national = digits.startsWith("62") ? digits.slice(2) : digits.replace(/^0/, "");
	return `+62 ${national.slice(0, 3)} **** ${national.slice(-4)}`;
};

unioncase.privacy.mask_email = function (value) {
	const [local, domain] = (value || "").split("@");
	if (!value) return "";
	return domain ? `${local.slice(0, 1)}****@${domain}` : "****";
};
