app_name = "unioncase"
app_title = "UnionCase"
app_publisher = "UnionCase contributors"
app_description = "Grievance and case management for trade-union federations"
app_email = "dev@unioncase.org"
app_license = "MIT"
# Frappe itself is never declared (v15 would look "frappe" up on GitHub); frappe/crm declares none either.
# Every whitelisted parameter is typed; Frappe (develop) refuses untyped ones with this on.
require_type_annotated_api_methods = True

after_install = "unioncase.setup.install.after_install"
# the analytics table (unioncase/reports/summary.py): made on a new site, remade when its layout changes
after_migrate = [
	"unioncase.reports.summary.after_migrate",
	# the workers' pages keep translations per process (compat.use_kept_translations)
	"unioncase.compat.forget_kept_translations",
]

# Desk helpers every list needs (contact masking); plain JS, served from the app's public folder.
app_include_js = [
	"/assets/unioncase/js/masking.js",
	# the filters the analytics reports share (each report's own .js names them)
	"/assets/unioncase/js/report_filters.js",
]

# The hierarchy: every read path of a scoped doctype stays inside the user's subtree.
permission_query_conditions = {
	"Grievance": "unioncase.hierarchy.permissions.grievance_query",
	"Union Member": "unioncase.hierarchy.permissions.union_member_query",
	"Union": "unioncase.hierarchy.permissions.union_query",
	# Frappe gives a Workflow Action to every holder of the role; only those who may read the case see it.
	"Workflow Action": "unioncase.workflows.assignment.workflow_action_query",
	# Intake: an inbound message belongs to its case, or before that to its intake union.
	"Inbound Message": "unioncase.intake.permissions.inbound_message_query",
	"Case Message": "unioncase.intake.permissions.case_message_query",
	# Broadcasts and their delivery rows belong to the broadcast's union (unioncase/intake/broadcast.py).
	"Member Broadcast": "unioncase.intake.broadcast.broadcast_query",
	"Member Broadcast Recipient": "unioncase.intake.broadcast.recipient_query",
	# Frappe lists every file of a readable doctype: a case's, member's or union's files follow its scope.
	"File": "unioncase.hierarchy.permissions.file_query",
	# mail to workers holds their address: out of every Email Queue list (unioncase/intake/permissions.py)
	"Email Queue": "unioncase.intake.permissions.email_queue_query",
}

# A confidential case's files: Frappe's download paths ask the File controller, not the hook above.
override_doctype_class = {
	"File": "unioncase.privacy.confidential_files.CaseFile",
	# Intake mailboxes (Append To: Grievance) hand their mail, raw, to the inbox (unioncase/intake/email.py).
	"Email Account": "unioncase.intake.email.IntakeEmailAccount",
}

has_permission = {
	"Grievance": "unioncase.hierarchy.permissions.has_scoped_permission",
	"Union Member": "unioncase.hierarchy.permissions.has_scoped_permission",
	"Union": "unioncase.hierarchy.permissions.has_scoped_permission",
	"Workflow Action": "unioncase.workflows.assignment.workflow_action_permission",
	"File": "unioncase.privacy.confidential.has_file_permission",
	"Inbound Message": "unioncase.intake.permissions.has_inbound_permission",
	"Case Message": "unioncase.intake.permissions.has_case_message_permission",
	"Member Broadcast": "unioncase.intake.broadcast.has_broadcast_permission",
	"Member Broadcast Recipient": "unioncase.intake.broadcast.has_recipient_permission",
	"Email Queue": "unioncase.intake.permissions.has_email_queue_permission",
}

override_whitelisted_methods = {
	"frappe.client.get_count": "unioncase.hierarchy.api.get_count",
	"frappe.utils.global_search.search": "unioncase.hierarchy.api.global_search",
	# says why a case action is refused (stage, owner, level) instead of "Not a valid Workflow Action"
	"frappe.model.workflow.apply_workflow": "unioncase.workflows.actions.apply_workflow",
	# the Connections panel lists what the user may read, on v15 as on v16 (see compat.linked_with_get)
	"frappe.desk.form.linked_with.get": "unioncase.compat.linked_with_get",
}

# Frappe's personal-data tooling (deletion and download requests): where workers' data lives, matched
# by email. UnionCase completes both flows in unioncase.privacy.erasure (doc_events below).
user_data_fields = [
	{
		"doctype": "Union Member",
		"filter_by": "email",
		"redact_fields": ["full_name", "phone", "national_id", "address", "date_of_birth"],
	},
	{
		"doctype": "Grievance",
		"filter_by": "reporter_email",
		"redact_fields": ["reporter_name", "reporter_phone"],
	},
]


# Worker identity protection (unioncase/privacy): identity fields stay behind their permission level
# on every path; a confidential case's reporter is sealed off the case.
# The first hook authenticates API-key and OAuth clients (Frappe does only after these hooks).
before_request = [
	"unioncase.privacy.guard.authenticate",
	"unioncase.privacy.guard.guard_identity_queries",
	"unioncase.privacy.guard.upload_attachments_as_private",
]

# Writes answer with the saved document: identity fields the user may not read are taken out of it.
# The first answers the webhooks' bodies Frappe refuses before any app code runs (unioncase.compat).
after_request = [
	"unioncase.compat.answer_raw_body_webhooks",
	"unioncase.privacy.response.strip_identity_from_response",
]

jinja = {"methods": ["unioncase.privacy.masking.mask_phone", "unioncase.privacy.masking.mask_email"]}

doc_events = {
	# Every UnionCase DocType: each value fits its field (type, length, range) before any controller reads it.
	"*": {"before_validate": "unioncase.validation.field_limits.validate_field_limits"},
	# The case lifecycle: per-union assignment rules follow the officials attached to each union, and
	# nobody is assigned a case outside their part of the hierarchy.
	"User Permission": {
		"on_update": [
			"unioncase.workflows.assignment.on_user_permission_change",
			"unioncase.hierarchy.sharing.on_attachment_change",
		],
		"after_delete": [
			"unioncase.workflows.assignment.on_user_permission_change",
			"unioncase.hierarchy.sharing.on_attachment_change",
		],
	},
	# ...and a user's shares follow their roles (a share made while a role saw everything)
	"User": {"on_update": "unioncase.hierarchy.sharing.on_roles_change"},
	"ToDo": {"validate": "unioncase.workflows.assignment.validate_todo_scope"},
	# the workers' pages keep translations per process (compat.use_kept_translations)
	"Translation": {
		"on_update": "unioncase.compat.forget_kept_translations",
		"on_trash": "unioncase.compat.forget_kept_translations",
	},
	# Frappe grants a shared document whatever has_permission says: no share around the hierarchy.
	"DocShare": {"validate": "unioncase.hierarchy.sharing.refuse_share_outside_scope"},
	# Frappe's personal-data requests, completed for UnionCase's records (unioncase.privacy.erasure).
	"Personal Data Deletion Request": {
		"on_change": "unioncase.privacy.erasure.on_deletion_request_change",
	},
	"Personal Data Download Request": {
		"after_insert": "unioncase.privacy.erasure.on_download_request_insert",
	},
	# Worker identity protection (unioncase/privacy).
	"Grievance": {
		"validate": "unioncase.privacy.confidential.seal_identity",
		"on_update": [
			"unioncase.privacy.confidential.store_sealed_identity",
			"unioncase.hierarchy.sharing.on_document_moved",
			# the analytics table's row of the case, in the same transaction (reports/summary.py)
			"unioncase.reports.summary.on_case_change",
			# a worker who asked for stage notices gets one (unioncase/intake/guided.py)
			"unioncase.intake.guided.notify_stage_change",
		],
		"after_rename": "unioncase.reports.summary.on_case_rename",
		"onload": "unioncase.privacy.confidential.reveal_in_form",
		"before_print": [
			"unioncase.privacy.fields.hide_identity",
			"unioncase.privacy.confidential.reveal_in_print",
		],
		"on_trash": [
			"unioncase.privacy.confidential.drop_sealed_identity",
			"unioncase.privacy.fields.forget_identity_on_delete",
			"unioncase.privacy.consent.drop_consent_history",
			"unioncase.reports.summary.on_case_delete",
		],
	},
	# the analytics table follows renames of what it names, and recomputes working times when a
	# calendar changes (a job, within minutes)
	"Union": {
		"after_rename": "unioncase.reports.summary.on_link_rename",
		"on_update": "unioncase.reports.summary.on_calendar_change",
	},
	"Grievance Category": {"after_rename": "unioncase.reports.summary.on_link_rename"},
	"Employer": {"after_rename": "unioncase.reports.summary.on_link_rename"},
	"Workflow State": {"after_rename": "unioncase.reports.summary.on_link_rename"},
	"Union Holiday Calendar": {"on_update": "unioncase.reports.summary.on_calendar_change"},
	"Grievance Deadline Settings": {"on_update": "unioncase.reports.summary.on_calendar_change"},
	"Union Member": {
		"on_update": "unioncase.hierarchy.sharing.on_document_moved",
		"before_print": "unioncase.privacy.fields.hide_identity",
		"on_trash": [
			"unioncase.privacy.fields.forget_identity_on_delete",
			"unioncase.privacy.consent.drop_consent_history",
		],
	},
	"Confidential Identity": {"on_trash": "unioncase.privacy.fields.forget_identity_on_delete"},
	"Version": {"before_insert": "unioncase.privacy.fields.strip_identity_from_version"},
	"Property Setter": {"validate": "unioncase.privacy.fields.refuse_exposing_identity"},
	"Custom Field": {"validate": "unioncase.privacy.fields.refuse_identity_fetch"},
	"Notification": {"validate": "unioncase.privacy.fields.refuse_identity_in_notification"},
	"File": {
		"before_insert": "unioncase.privacy.fields.make_attachment_private",
		"before_validate": "unioncase.privacy.fields.make_attachment_private",
	},
	"Error Log": {"before_insert": "unioncase.privacy.fields.scrub_error_log"},
	# Saved lists, charts and cards load field names from the database: no identity field in them.
	"Dashboard Chart": {"validate": "unioncase.privacy.guard.refuse_identity_in_saved_config"},
	"Number Card": {"validate": "unioncase.privacy.guard.refuse_identity_in_saved_config"},
	"Report": {"validate": "unioncase.privacy.guard.refuse_identity_in_saved_config"},
	"Kanban Board": {"validate": "unioncase.privacy.guard.refuse_identity_in_saved_config"},
	"List View Settings": {"validate": "unioncase.privacy.guard.refuse_identity_in_saved_config"},
}

scheduler_events = {
	"daily": [
		"unioncase.privacy.retention.apply_retention_policy",
		# rows of the analytics table whose case was deleted without the hooks
		"unioncase.reports.summary.prune",
	],
	# Guided first contact: unfinished conversations past their time lose what they held.
	"hourly": ["unioncase.intake.guided.expire_stale_conversations"],
	# Deadlines: flag overdue cases, then alert or escalate (unioncase/workflows/overdue.py).
	"cron": {
		"*/15 * * * *": ["unioncase.workflows.overdue.flag_overdue_cases"],
		# the analytics table: cases changed by direct database writes since the last run
		"*/5 * * * *": ["unioncase.reports.summary.reconcile"],
		# Intake: retry failed inbound messages and deliveries once their backoff has passed.
		"*/2 * * * *": [
			"unioncase.intake.inbox.retry_due_messages",
			"unioncase.intake.conversation.retry_due_deliveries",
			# SMS: a long message whose parts stopped arriving is joined with what came
			"unioncase.intake.sms.join_waiting_parts",
			# Broadcasts: resume paused ones and ones whose job died (unioncase/intake/broadcast.py).
			"unioncase.intake.broadcast.resume_due_broadcasts",
		],
	},
}

# Intake (unioncase/intake): the workers' pages in English keep their Indonesian templates.
website_route_rules = [
	{"from_route": "/report-problem", "to_route": "lapor"},
	{"from_route": "/track-case", "to_route": "kasus"},
]
# The workers' pages straight from their templates, past the generic renderer (intake/pages.py).
page_renderer = ["unioncase.intake.pages.WorkerPage"]
