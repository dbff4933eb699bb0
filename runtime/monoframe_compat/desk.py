"""Patches for the Desk (the officials' browser UI) on monoframe==0.0.1; see runtime/README.md.

Kept apart from patches.py: these only matter once the Desk's assets are built (runtime/desk).
Each entry of `MODULE_PATCHES` runs after the patches.py entry of the same module.
"""

import json
import os


def patch_monoframe(m):
	def is_setup_complete():
		# monoframe looks for a table named after the single System Settings, which never exists, so every
		# user lands in the setup wizard; the value lives in tabSingles, as in Frappe.
		if not m.db.table_exists("Singles"):
			return False
		return bool(m.db.get_single_value("System Settings", "setup_complete"))

	m.is_setup_complete = is_setup_complete


def patch_client(client):
	import monoframe

	original_get_value = client.get_value

	def get_value(doctype, fieldname, filters=None, as_dict=True, debug=False, parent=None):
		# The Desk's form/workflow.js reads Workflow.enable_action_confirmation before every workflow
		# action; only managers may read Workflow, so for officials the action never ran (403). Anyone
		# who may read a document type may read this one flag of its workflow, nothing more.
		flag = workflow_confirmation_request(doctype, fieldname, filters)
		if flag is None:
			return original_get_value(doctype, fieldname, filters, as_dict, debug, parent)
		document_type = flag
		if not monoframe.has_permission(document_type, "read"):
			raise monoframe.PermissionError(monoframe._("No permission for {0}").format(monoframe._(doctype)))
		value = monoframe.db.get_value(
			"Workflow", {"document_type": document_type, "is_active": 1}, "enable_action_confirmation"
		)
		return {"enable_action_confirmation": value or 0} if as_dict else value or 0

	get_value.__doc__ = original_get_value.__doc__
	client.get_value = monoframe.whitelist()(get_value)


def workflow_confirmation_request(doctype, fieldname, filters):
	"""The document type whose workflow's confirmation flag is asked for, or None for any other read."""
	if doctype != "Workflow":
		return None
	try:
		fields = (
			json.loads(fieldname) if isinstance(fieldname, str) and fieldname.startswith("[") else fieldname
		)
		filters = json.loads(filters) if isinstance(filters, str) else filters
	except ValueError:
		return None
	if fields not in ("enable_action_confirmation", ["enable_action_confirmation"]):
		return None
	if not isinstance(filters, dict) or set(filters) != {"document_type"}:
		return None
	document_type = filters["document_type"]
	return document_type if isinstance(document_type, str) and document_type else None


def patch_sessions(sessions):
	original_get = sessions.get

	def get():
		bootinfo = original_get()
		# No socket.io server runs beside the embedded runtime: the Desk's realtime client then stays
		# off (no reconnect loop, no console errors), as Frappe does with disable_async.
		if not os.environ.get("SOCKETIO_PORT"):
			bootinfo["disable_async"] = True
		return bootinfo

	sessions.get = get


def patch_utils(utils):
	cached = {}

	def get_assets_json():
		# The manifest of the built Desk (runtime/desk) under the site folder. monoframe caches it in
		# Redis forever, so a rebuild kept serving the old bundle names; re-read it when the file changes.
		path = os.path.abspath(os.path.join("assets", "assets.json"))
		try:
			mtime = os.path.getmtime(path)
		except OSError:
			return {}  # no Desk built: bundle names stay as they are, as in Frappe without a build
		if cached.get("mtime") != mtime:
			with open(path) as manifest:
				cached.update(mtime=mtime, assets=json.load(manifest))
		return cached["assets"]

	utils.get_assets_json = get_assets_json


def patch_typing_validations(typing_validations):
	original_transform = typing_validations.transform_parameter_types
	resolved = set()

	def transform_parameter_types(func, args, kwargs):
		# Frappe converts a whitelisted method's arguments to their annotated types (the Desk sends
		# `ignore_user_permissions=0` as the string "0"). The fork added `from __future__ import
		# annotations` to 815 modules, so every annotation is a string, which the check skips: "0" stayed
		# truthy and every Link field the Desk validates (Customize Form's document type, a case's
		# category) was refused with "does not allow ignoring user permissions". Resolve the fork's own
		# annotations once, as they are in Frappe; any name that does not resolve stays skipped.
		if func not in resolved and getattr(func, "__module__", "").startswith("monoframe"):
			resolved.add(func)
			annotations = getattr(func, "__annotations__", None) or {}
			for name, annotation in list(annotations.items()):
				if isinstance(annotation, str):
					try:
						annotations[name] = eval(annotation, func.__globals__)  # the fork's own annotations
					except Exception:
						pass  # left as a string: not checked, as before
		return original_transform(func, args, kwargs)

	typing_validations.transform_parameter_types = transform_parameter_types


MODULE_PATCHES = {
	"monoframe": patch_monoframe,
	"monoframe.client": patch_client,
	"monoframe.sessions": patch_sessions,
	"monoframe.utils": patch_utils,
	"monoframe.utils.typing_validations": patch_typing_validations,
}
