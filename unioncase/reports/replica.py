"""Analytics reads on the site's read replica, writes on the primary.

Frappe moves a function's queries to a replica with `frappe.read_only()` when the site config has
`read_from_replica: 1` (with `replica_host` and, optionally, `replica_db_port` and the replica's own
credentials); without it the function reads the primary as before. Every Script Report already runs
through `frappe.desk.query_report.run`, which Frappe (v15 and develop, and the monoframe runtime)
decorates with `frappe.read_only()`; the export's job and the app's own card read through this.
"""

import frappe


def on_replica(fn):
	"""`fn` with its queries on the site's read replica when the site has one."""
	return frappe.read_only()(fn)
