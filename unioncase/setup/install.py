"""What a new site gets: sectors, tags and the default grievance category tree (never overwritten)."""

import json
from pathlib import Path

import frappe

from unioncase.privacy.consent import make_default_consent_texts
from unioncase.privacy.identity import IDENTITY_ROLE
from unioncase.privacy.logs import apply_log_clearing
from unioncase.reports import summary
from unioncase.workflows.deadlines import make_default_deadline_records
from unioncase.workflows.install import install_lifecycle

CATEGORY_ROOT = "All Grievance Categories"
DEFAULT_DATA = Path(__file__).with_name("default_data.json")


def after_install():
	make_default_records()
	make_default_consent_texts()
	install_lifecycle()
	make_default_deadline_records()
	make_identity_role()
	apply_log_clearing()
	# the analytics table: made on a new site; a current one is kept (a rebuild truncates, which commits)
	summary.after_migrate()


def make_identity_role():
	"""The role a federation gives the few officials who may see workers' identities."""
	if not frappe.db.exists("Role", IDENTITY_ROLE):
		frappe.get_doc({"doctype": "Role", "role_name": IDENTITY_ROLE, "desk_access": 1}).insert(
			ignore_permissions=True
		)


def make_default_records():
	data = json.loads(DEFAULT_DATA.read_text())
	insert_missing({"doctype": "Grievance Category", "category_name": CATEGORY_ROOT, "is_group": 1})
	for parent, children in data["grievance_categories"].items():
		insert_missing(
			{
				"doctype": "Grievance Category",
				"category_name": parent,
				"parent_grievance_category": CATEGORY_ROOT,
				"is_group": 1 if children else 0,
			}
		)
		for child in children:
			insert_missing(
				{"doctype": "Grievance Category", "category_name": child, "parent_grievance_category": parent}
			)
	for sector in data["union_sectors"]:
		insert_missing({"doctype": "Union Sector", "sector_name": sector})
	for tag in data["grievance_tags"]:
		insert_missing({"doctype": "Grievance Tag", "tag_name": tag})


def insert_missing(record: dict):
	"""Insert a default unless a record of that name exists: admins' edits and deletions of names stay."""
	name_field = next(key for key in record if key.endswith("_name"))
	if not frappe.db.exists(record["doctype"], record[name_field]):
		frappe.get_doc(record).insert(ignore_permissions=True)
