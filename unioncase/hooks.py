app_name = "unioncase"
app_title = "UnionCase"
app_publisher = "UnionCase contributors"
app_description = "Grievance and case management for trade-union federations"
app_email = "dev@unioncase.org"
app_license = "MIT"
required_apps = ["frappe"]

after_install = "unioncase.setup.install.after_install"

# The hierarchy: every read path of a scoped doctype stays inside the user's subtree.
permission_query_conditions = {
	"Grievance": "unioncase.hierarchy.permissions.grievance_query",
	"Union Member": "unioncase.hierarchy.permissions.union_member_query",
	"Union": "unioncase.hierarchy.permissions.union_query",
}

has_permission = {
	"Grievance": "unioncase.hierarchy.permissions.has_scoped_permission",
	"Union Member": "unioncase.hierarchy.permissions.has_scoped_permission",
	"Union": "unioncase.hierarchy.permissions.has_scoped_permission",
}

override_whitelisted_methods = {
	"frappe.client.get_count": "unioncase.hierarchy.api.get_count",
	"frappe.utils.global_search.search": "unioncase.hierarchy.api.global_search",
}

# Frappe's personal-data tooling (deletion requests, downloads) knows where members' data lives.
user_data_fields = [
	{
		"doctype": "Union Member",
		"match_field": "email",
		"personal_fields": ["full_name", "phone", "national_id", "address", "date_of_birth"],
	},
	{
		"doctype": "Grievance",
		"match_field": "reporter_email",
		"personal_fields": ["reporter_name", "reporter_phone"],
	},
]

# Deadlines: flag overdue cases, then alert or escalate (unioncase/workflows/overdue.py).
scheduler_events = {
	"cron": {
		"*/15 * * * *": ["unioncase.workflows.overdue.flag_overdue_cases"],
	},
}
