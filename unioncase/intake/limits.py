"""Rate limits for the workers' pages and channels: a counter per bucket and key in Redis, with a window.

Frappe's @rate_limit counts per method and IP only; the tracking page also limits each code, whoever asks.
"""

import hashlib

import frappe

PREFIX = "unioncase-intake-limit"


def allow(bucket: str, key: str, limit: int, seconds: int) -> bool:
	"""Count one hit of `key` in `bucket`; False once more than `limit` hits fell in the window."""
	cache_key = frappe.cache.make_key(f"{PREFIX}:{bucket}:{hashlib.sha256(key.encode()).hexdigest()}")
	count = frappe.cache.incr(cache_key)
	if count == 1:
		frappe.cache.expire(cache_key, seconds)
	return count <= limit


def reset():
	"""Forget every counter (tests, and an admin lifting a block)."""
	for key in frappe.cache.scan_iter(frappe.cache.make_key(f"{PREFIX}:*")):
		frappe.cache.delete(key)
