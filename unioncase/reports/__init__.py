"""Aggregated case data for officials, leaders and researchers; every query runs through
frappe.get_list, so a report shows only the reader's part of the hierarchy."""
