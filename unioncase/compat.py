"""The few places where Frappe v15 and v16 APIs differ, in one import."""

import importlib.util
import inspect
import json
import re
import sys

import frappe
from frappe.database.database import Database

# v16 builds get_list with the query engine in frappe.model.qb_query, which refuses SQL strings.
QUERY_ENGINE_LISTS = importlib.util.find_spec("frappe.model.qb_query") is not None

# v16's Database.commit takes chain=True (COMMIT AND CHAIN, one round trip); v15's takes nothing.
COMMIT_CHAINS = "chain" in inspect.signature(Database.commit).parameters


# v15's DatabaseQuery.apply_fieldlevel_read_permissions walks the selected fields forwards while it
# removes the ones a user may not read, so the field after each removed one stays: an in-process
# frappe.get_list("Grievance", fields=["member", "reporter_name", ...]) keeps every other identity
# column. v16 walks them backwards. UnionCase's own lists go through privacy.guard.get_list on both.
LIST_DROPS_EVERY_HIDDEN_COLUMN = QUERY_ENGINE_LISTS


def officials_create_unions() -> bool:
	"""Whether an official attached to part of the tree (a User Permission on Union) may create a union
	below it. v16's permissions.has_user_permission lets a user create a tree node under a node they may
	see (`_get_parent_and_ancestors`); v15 compares the new document's own name, still None before
	naming (Document.insert checks "create" first), with the allowed unions and refuses: on v15 only an
	unattached Union Administrator or System Manager creates unions. The app's scope hook
	(hierarchy.permissions) can only deny, so it cannot grant this on v15."""
	import frappe.permissions

	return hasattr(frappe.permissions, "_get_parent_and_ancestors")


def has_sms_log() -> bool:
	"""Whether the site has Frappe's SMS Log DocType (send_sms writes every number there in clear). v16
	ships it in Frappe's core; v15 does not (ERPNext brings it), so on a bare v15 site there is no such
	log to leak from, and /api/resource/SMS Log answers 404."""
	return bool(frappe.db.exists("DocType", "SMS Log"))


def print_refused_status() -> int:
	"""The HTTP status Frappe's print endpoints (download_pdf, the print view) answer a user who may not
	print the document. v15's validate_print_permission raises DoesNotExistError, "not found" (404);
	v16 raises the document's permission failure (403). No PDF either way."""
	from frappe.model.document import Document

	return 403 if hasattr(Document, "_handle_permission_failure") else 404


def validate_link_method() -> tuple[str, str]:
	"""The Desk's link check that fetches fields: (method, its fields argument). v16 renamed it."""
	import frappe.client

	if hasattr(frappe.client, "validate_link_and_fetch"):
		return "frappe.client.validate_link_and_fetch", "fields_to_fetch"
	return "frappe.client.validate_link", "fields"


def readable_names_sql(doctype: str) -> str:
	"""SQL selecting the names of the `doctype` rows the session user may list (every permission rule
	`frappe.get_list` applies), for use as a subquery. v15's get_list returns SQL text with run=False;
	the query engine returns a query object."""
	import frappe

	query = frappe.get_list(doctype, fields=["name"], limit_page_length=0, order_by=None, run=False)
	return query if isinstance(query, str) else query.get_sql()


def aggregate(function: str, field: str, alias: str):
	"""An aggregate select field for frappe.get_list, e.g. aggregate("count", "*", "cases")."""
	if QUERY_ENGINE_LISTS:
		return {function.upper(): field, "as": alias}
	return f"{function}({field}) as {alias}"


def migrate_command(site: str) -> list[str]:
	"""The command that migrates the site in a new process, run from the sites folder: what
	`bench --site <site> migrate` runs (bench calls Frappe's CLI, frappe.utils.bench_helper, whose
	`migrate` runs frappe.migrate.SiteMigration), on v15 and v16 alike. A runtime whose bench_helper has
	no CLI (the embedded runtime, single-site: see runtime/README.md) runs the same SiteMigration itself;
	`python -m` of a module without a CLI would exit 0 having done nothing."""
	import frappe.utils.bench_helper

	if hasattr(frappe.utils.bench_helper, "main"):
		return [sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site", site, "migrate"]
	return [
		sys.executable,
		"-c",
		"import sys; from frappe.migrate import SiteMigration; SiteMigration().run(site=sys.argv[1])",
		site,
	]


def worker_command(queue: str) -> tuple[list[str], str]:
	"""A background worker that runs the queue's jobs and exits (`--burst`), and the folder it runs in:
	on a bench, Frappe's CLI from the sites folder (`bench worker --burst --queue <queue>`, v15 and
	v16); on the embedded runtime, its own `monoframe worker` from the site folder (single-site: it
	reads the site's .env there; see runtime/README.md)."""
	import os

	import frappe.utils.bench_helper

	if hasattr(frappe.utils.bench_helper, "main"):
		command = [sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "worker"]
		return [*command, "--burst", "--queue", queue], os.path.abspath(frappe.local.sites_path)
	monoframe = os.path.join(os.path.dirname(sys.executable), "monoframe")
	return [monoframe, "worker", "--burst", "--queue", queue], os.path.abspath(frappe.get_site_path())


# The webhooks that read their body raw (frappe.request.get_data()) and answer a body they cannot read
# themselves, after checking who sent it.
RAW_BODY_WEBHOOKS = ("unioncase.intake.whatsapp.webhook", "unioncase.intake.sms.webhook")
API_METHOD_PATH = re.compile(r"^/api/(?:v[12]/)?method/([\w.]+)/?$")


def body_frappe_refuses(request) -> bool:
	"""Whether Frappe's app.make_form_dict refuses the request's body (its exact test): a JSON body
	(Content-Type application/json) that does not parse, or parses to neither an object nor a list."""
	data = request.get_data(cache=True, as_text=True)
	if not (data and request.is_json):
		return False
	try:
		args = json.loads(data)
	except (ValueError, RecursionError):
		return True
	return not isinstance(args, dict | list)


def answer_raw_body_webhooks(response, request=None):
	"""after_request (first): the WhatsApp and SMS webhooks' own answer to a body Frappe would not parse.
	Real Frappe (v15 and v16 alike) parses a JSON body in init_request (app.make_form_dict), before any
	before_request hook, route or handler runs: a body that does not parse (a truncated delivery, a
	forged post) answers 500 (json.JSONDecodeError), a bare scalar (`null`, `5`) 417 "Invalid request
	arguments", so no app code could check the signature and answer the clear 4xx the provider retries
	on. after_request hooks still run then (app.application's finally, with the handled error's response
	and the database connected), so here the webhook runs on the raw body, as for any other body (it
	reads nothing of form_dict), and its answer replaces Frappe's; the request is a guest's (init_request
	stopped before the session was read) and its writes are committed as Frappe's own request would.
	Frappe still writes the error it raised to its log first. The embedded runtime hands such bodies to
	a method without arguments itself (runtime/monoframe_compat/web.py): there the webhook has run
	(http_request is set) and this does nothing."""
	if response is None or request is None or request.method != "POST" or response.status_code < 400:
		return
	# init_request sets http_request right after make_form_dict: unset, no handler ran
	if getattr(frappe.local, "http_request", None) is not None:
		return
	match = API_METHOD_PATH.match(request.path)
	if not (match and match.group(1) in RAW_BODY_WEBHOOKS and body_frappe_refuses(request)):
		return
	try:
		frappe.set_user("Guest")
		answer = frappe.get_attr(match.group(1))()
		frappe.db.commit()
	except Exception:
		frappe.db.rollback()
		frappe.log_error(title=f"{match.group(1)} on a body Frappe refused")
		return
	response.status_code = answer.status_code
	response.set_data(answer.get_data())
	response.headers["Content-Type"] = answer.headers.get("Content-Type", "application/json")


@frappe.whitelist()
def linked_with_get(doctype: str, docname: str) -> dict:
	"""The Connections panel (override of frappe.desk.form.linked_with.get): the linked documents the
	user may read. v16 skips the doctypes the user cannot read; v15 lists every linked doctype and
	answers 403 for the whole panel as soon as one of them is unreadable (a case links to Comment,
	Contact Handle, Confidential Identity and the privacy logs). Same answer on both."""
	from frappe.desk.form.linked_with import get_linked_docs, get_linked_doctypes

	frappe.has_permission(doctype, doc=docname, throw=True)
	linked = {
		linked_doctype: link
		for linked_doctype, link in get_linked_doctypes(doctype=doctype).items()
		if frappe.has_permission(linked_doctype)
	}
	return get_linked_docs(doctype=doctype, name=docname, linkinfo=linked)


def commit_and_go_on():
	"""Commit and carry on in a new transaction: v16's Database.commit(chain=True) says so in one
	statement (COMMIT AND CHAIN); v15's commit sends COMMIT, then START TRANSACTION."""
	if COMMIT_CHAINS:
		frappe.db.commit(chain=True)
	else:
		frappe.db.commit()


# Every request starts with an empty request-local cache (frappe.local.cache, the first layer of
# frappe.cache.hget on v15 and v16 alike), so the first `_()` of each one fetches and unpickles the whole
# merged translation dictionary (90 KB for Bahasa Indonesia): a tenth of a report posted to /lapor. A
# process keeps its copy while the epoch below stands; a change of a Translation, a migrate or a cache
# clear ends the epoch (a clear deletes every key of the site), and TRANSLATIONS_KEPT_SECONDS bounds
# what nothing reports (Customize Form's label translations).
TRANSLATIONS_EPOCH = "unioncase:translations-epoch"
TRANSLATIONS_KEPT_SECONDS = 300
_kept_translations: dict[tuple[str, str], tuple[str, float, dict]] = {}


def use_kept_translations(lang: str):
	"""Serve this request's `_()` in `lang` from the process's copy of the merged translations."""
	import secrets
	import time

	from frappe.translate import MERGED_TRANSLATION_KEY, get_all_translations

	epoch = frappe.cache.get_value(TRANSLATIONS_EPOCH)
	if not epoch:
		epoch = secrets.token_hex(8)
		frappe.cache.set_value(TRANSLATIONS_EPOCH, epoch)
	key = (frappe.local.site, lang)
	kept = _kept_translations.get(key)
	if kept and kept[0] == epoch and time.monotonic() - kept[1] < TRANSLATIONS_KEPT_SECONDS:
		frappe.local.cache.setdefault(frappe.cache.make_key(MERGED_TRANSLATION_KEY), {})[lang] = kept[2]
		return
	translations = get_all_translations(lang)
	if translations:  # an empty one may be a failed load (Frappe logs it and returns {}): asked again
		_kept_translations[key] = (epoch, time.monotonic(), translations)


def forget_kept_translations(*args, **kwargs):
	"""A Translation changed (doc_events), or the site migrated: every process reloads its copy."""
	frappe.cache.delete_value(TRANSLATIONS_EPOCH)


def __getattr__(name):
	# Resolved on first use so that production code paths never import the test framework.
	if name == "IntegrationTestCase":
		try:  # v16
			from frappe.tests import IntegrationTestCase
		except ImportError:  # v15
			from frappe.tests.utils import FrappeTestCase as IntegrationTestCase
		return IntegrationTestCase
	raise AttributeError(name)
