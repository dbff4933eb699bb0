"""Patches applied right after a monoframe module executes (see `MODULE_PATCHES`).

Each patch teaches one hard-coded single-app function about the apps listed in the
`MONOFRAME_APPS` environment variable, following what real Frappe does in the same place.
"""

import json
import os
import types
import warnings

PINNED_VERSION = "0.0.1"
APPS_ENV = "MONOFRAME_APPS"


def extra_apps() -> list[str]:
	"""Apps besides monoframe that this environment can install (real Frappe reads apps.txt)."""
	return [app.strip() for app in os.environ.get(APPS_ENV, "").split(",") if app.strip()]


def check_version(module):
	if module.__version__ != PINNED_VERSION:
		raise RuntimeError(
			f"monoframe_compat patches monoframe=={PINNED_VERSION}, found {module.__version__}"
		)


def patch_monoframe(m):
	check_version(m)
	original_init = m.init

	def init(force: bool = False) -> None:
		original_init(force)
		# Jinja hooks (filters, methods) are only registered when a site is set.
		if not getattr(m.local, "site", None):
			m.local.site = m.get_site_name()

	def get_all_apps(with_internal_apps: bool = True, sites_path: str | None = None) -> list[str]:
		return ["monoframe", *extra_apps()]

	def get_installed_apps(*, _ensure_on_bench: bool = False) -> list[str]:
		if getattr(m.flags, "in_install_db", True) or not getattr(m.local, "db", None):
			return []
		stored = json.loads(m.db.get_global("installed_apps") or "[]")
		if "monoframe" not in stored:
			return []
		return ["monoframe", *(app for app in stored if app in extra_apps())]

	def get_app_path(app_name: str, *joins):
		return m.get_pymodule_path(app_name, *joins)

	def get_app_source_path(app_name: str, *joins):
		return m.get_pymodule_path(app_name, "..", *joins)

	def _load_app_hooks(app_name: str | None = None):
		import inspect

		hooks = {}
		# As in real Frappe, no hooks (doc_events included) before the framework is installed.
		apps = [app_name] if app_name else m.get_installed_apps()

		def _is_valid_hook(obj):
			return not isinstance(obj, types.ModuleType | types.FunctionType | type)

		for app in apps:
			try:
				app_hooks = m.get_module(f"{app}.hooks")
			except ImportError:
				if m.local.flags.in_install_app:
					continue
				raise
			for key, value in inspect.getmembers(app_hooks, predicate=_is_valid_hook):
				if not key.startswith("_"):
					m.append_hook(hooks, key, value)
		return hooks

	original_get_hooks = m.get_hooks

	def get_hooks(hook: str | None = None, default="_KEEP_DEFAULT_LIST", app_name: str | None = None):
		if not app_name:
			return original_get_hooks(hook, default)
		hooks = m._dict(_load_app_hooks(app_name))
		if hook:
			return hooks.get(hook, ([] if default == "_KEEP_DEFAULT_LIST" else default))
		return hooks

	def setup_module_map(include_all_apps: bool = True) -> None:
		cache = m.cache if include_all_apps else m.client_cache
		app_modules = cache.get_value("app_modules")
		if not app_modules or set(app_modules) != set(get_all_apps()):
			app_modules = {
				app: [m.scrub(module) for module in m.get_module_list(app)] for app in get_all_apps()
			}
			cache.set_value("app_modules", app_modules)
		m.local.app_modules = app_modules
		m.local.module_app = {module: app for app, modules in app_modules.items() for module in modules}

	def override_whitelisted_method(original_method: str) -> str:
		# Apps override "frappe.x" paths; the same method is reachable as "monoframe.x" here.
		overrides = m.get_hooks("override_whitelisted_methods", {})
		for name in (original_method, *_aliases(original_method)):
			if overrides.get(name):
				return overrides[name][-1]
		return original_method

	m.init = init
	m.override_whitelisted_method = override_whitelisted_method
	m.get_all_apps = get_all_apps
	m.get_installed_apps = get_installed_apps
	m.get_app_path = get_app_path
	m.get_app_source_path = get_app_source_path
	m._load_app_hooks = _load_app_hooks
	m._request_cached_load_app_hooks = m.request_cache(_load_app_hooks)
	m._site_cached_load_app_hooks = m.site_cache(_load_app_hooks)
	m.get_hooks = get_hooks
	m.setup_module_map = setup_module_map
	m.call = call_with_arguments_checked(m)


def _aliases(dotted_path: str) -> list[str]:
	for prefix, other in (("frappe.", "monoframe."), ("monoframe.", "frappe.")):
		if dotted_path.startswith(prefix):
			return [other + dotted_path[len(prefix) :]]
	return []


def patch_installer(installer):
	import monoframe

	def install_app(name, verbose=False, set_as_patched=True, force=False):
		"""Real Frappe's install_app: hooks of this app only, Module Defs only for apps."""
		from monoframe.core.doctype.scheduled_job_type.scheduled_job_type import sync_jobs
		from monoframe.model.module_utils import sync_customizations
		from monoframe.model.sync import sync_for
		from monoframe.utils.fixtures import sync_fixtures

		monoframe.flags.in_install = name
		monoframe.clear_cache()
		app_hooks = monoframe.get_hooks(app_name=name)
		if not force and name in monoframe.get_installed_apps():
			print(f"App {name} already installed")
			return

		print(f"\nInstalling {name}...")
		for before_install in app_hooks.before_install or []:
			if monoframe.get_attr(before_install)() is False:
				return
		for fn in monoframe.get_hooks("before_app_install"):
			monoframe.get_attr(fn)(name)

		if name != "monoframe":
			installer.add_module_defs(name, ignore_if_duplicate=force)
		sync_for(name, force=force, reset_permissions=True)
		installer.add_to_installed_apps(name)
		monoframe.get_doc("Portal Settings", "Portal Settings").sync_menu()
		if set_as_patched:
			installer.set_all_patches_as_completed(name)

		for after_install in app_hooks.after_install or []:
			monoframe.get_attr(after_install)()
		for fn in monoframe.get_hooks("after_app_install"):
			monoframe.get_attr(fn)(name)

		sync_jobs()
		sync_fixtures(name)
		sync_customizations(name)
		installer.sync_dashboards(name)
		for after_sync in app_hooks.after_sync or []:
			monoframe.get_attr(after_sync)()

		monoframe.clear_cache()
		monoframe.client_cache.erase_persistent_caches()
		monoframe.flags.in_install = False

	def add_to_installed_apps(app_name, rebuild_website=True):
		stored = json.loads(monoframe.db.get_global("installed_apps") or "[]")
		if app_name not in stored:
			stored.append(app_name)
			monoframe.db.set_global("installed_apps", json.dumps(stored))
			monoframe.db.commit()
		if monoframe.flags.in_install:
			installer.post_install(rebuild_website)

	installer.install_app = install_app
	installer.add_to_installed_apps = add_to_installed_apps


def patch_sync(sync):
	import monoframe

	def sync_all(force=0, reset_permissions=False):
		sync._patch_mode(True)
		for app in monoframe.get_installed_apps():
			sync.sync_for(app, force, reset_permissions=reset_permissions)
		sync._patch_mode(False)
		monoframe.clear_cache()

	sync.sync_all = sync_all


def patch_patches(patches):
	import monoframe

	def get_all_patches(patch_type=None) -> list[str]:
		if patch_type and not isinstance(patch_type, patches.PatchType):
			monoframe.throw(f"Unsupported patch type specified: {patch_type}")
		return [
			patch
			for app in monoframe.get_installed_apps()
			for patch in patches.get_patches_from_app(app, patch_type=patch_type)
		]

	patches.get_all_patches = get_all_patches


def patch_safe_exec(safe_exec):
	original_get_safe_globals = safe_exec.get_safe_globals

	def get_safe_globals():
		# Jinja templates, print formats and server scripts written for Frappe say `frappe.`.
		out = original_get_safe_globals()
		out.frappe = out.monoframe
		return out

	safe_exec.get_safe_globals = get_safe_globals


def patch_config(config):
	original_load_config = config._load_config

	def _load_config():
		# monoframe reads its config from the environment only, but keeps encryption_key in site_config.json
		# (which it never reads back): each process then encrypts passwords with a key of its own.
		loaded = original_load_config()
		if os.environ.get("ENCRYPTION_KEY"):
			loaded["encryption_key"] = os.environ["ENCRYPTION_KEY"]
		# Frappe reads the tick from common_site_config.json; here it is the site's .env.
		if os.environ.get("SCHEDULER_TICK_INTERVAL"):
			loaded["scheduler_tick_interval"] = int(os.environ["SCHEDULER_TICK_INTERVAL"])
		return loaded

	config._load_config = _load_config


def patch_utils(utils):
	original_get_assets_json = utils.get_assets_json

	def get_assets_json():
		# No built Desk assets here (no assets.json): emails and pages fall back to unbundled paths.
		return original_get_assets_json() or {}

	utils.get_assets_json = get_assets_json


def call_with_arguments_checked(m):
	"""`call`, but a whitelisted method called over HTTP without a required argument is a 417 naming
	it; monoframe (like Frappe) lets the TypeError out as a 500."""
	import inspect

	original_call = m.call

	def call(fn, *args, **kwargs):
		if isinstance(fn, str):
			fn = m.get_attr(fn)
		if not args and getattr(m.local, "request", None) is not None and fn in m.whitelisted:
			parameters = inspect.signature(fn).parameters.values()
			missing = [
				parameter.name
				for parameter in parameters
				if parameter.default is parameter.empty
				and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
				and parameter.name not in kwargs
			]
			if missing:
				m.throw(
					m._("Missing argument: {0}").format(", ".join(missing)),
					m.ValidationError,
					title=m._("Invalid request"),
				)
		return original_call(fn, *args, **kwargs)

	return call


def patch_api_v1(v1):
	original = v1.get_request_form_data

	def get_request_form_data():
		# /api/resource create and update: a body that is not a JSON object (an array, a number) is the
		# client's mistake, answered 417 with a message; monoframe (and Frappe) fail on it with a TypeError.
		data = original()
		if not isinstance(data, dict):
			import monoframe

			monoframe.throw(
				monoframe._("The request body must be a JSON object of field names and values."),
				monoframe.ValidationError,
				title=monoframe._("Invalid request"),
			)
		return data

	v1.get_request_form_data = get_request_form_data


def patch_pdf(pdf):
	def pdf_body_html(template, args, **kwargs):
		# monoframe returns "" here, so every print view is blank; Frappe renders the print format.
		return template.render(args, filters={"len": len})

	def get_pdf(html, options=None, output=None):
		"""Frappe's wkhtmltopdf backend (pdfkit); monoframe ships a stub that raises NotImplementedError."""
		import io
		import tempfile

		import monoframe
		import pdfkit
		from monoframe.utils import scrub_urls
		from pypdf import PdfReader, PdfWriter

		options = wkhtmltopdf_options(options)
		with tempfile.TemporaryDirectory() as folder:
			path = os.path.join(folder, "print.pdf")
			try:
				pdfkit.from_string(
					scrub_urls(without_screen_parts(html)), path, options=options, verbose=True
				)
			except OSError as error:
				# As Frappe: a PDF with a resource that failed to load is still the PDF (wkhtmltopdf exits 1).
				if not (os.path.exists(path) and os.path.getsize(path)):
					monoframe.log_error("PDF generation failed", str(error))
					monoframe.throw(monoframe._("PDF generation failed"))
			with open(path, "rb") as pdf_file:
				filedata = pdf_file.read()
		reader = PdfReader(io.BytesIO(filedata))
		if output is not None:
			output.append_pages_from_reader(reader)
			return output
		writer = PdfWriter()
		writer.append_pages_from_reader(reader)
		if options.get("password"):
			writer.encrypt(options["password"])
		stream = io.BytesIO()
		writer.write(stream)
		return stream.getvalue()

	def without_screen_parts(html: str) -> str:
		# Frappe drops `.hidden-pdf` and its print CSS hides `.print-hide` (the toolbar); that CSS is not built here.
		from bs4 import BeautifulSoup

		soup = BeautifulSoup(html, "html.parser")
		for tag in soup.select(".hidden-pdf, .print-hide"):
			tag.decompose()
		return str(soup)

	def wkhtmltopdf_options(options: dict | None) -> dict:
		import monoframe

		options = dict(options or {})
		options.update(
			{
				"print-media-type": None,
				"background": None,
				"images": None,
				"quiet": None,
				"encoding": "UTF-8",
				# As in Frappe: the page's scripts never run and it cannot read the server's files.
				"disable-javascript": "",
				"disable-local-file-access": "",
				# The Desk's CSS bundles are not built here (see README): a missing stylesheet is no error.
				"load-error-handling": "ignore",
				"load-media-error-handling": "ignore",
			}
		)
		for side in ("top", "right", "bottom", "left"):
			options.setdefault(f"margin-{side}", "15mm")
		if not options.get("page-size"):
			options["page-size"] = monoframe.db.get_single_value("Print Settings", "pdf_page_size") or "A4"
		return options

	pdf.pdf_body_html = pdf_body_html
	pdf.get_pdf = get_pdf


def patch_scheduler(scheduler):
	import time

	import monoframe
	from filelock import FileLock, Timeout

	def enqueue_events_for_all_sites() -> None:
		# Frappe's tick: connect to each site, then enqueue its due jobs. monoframe's tick skips the
		# connection (its enqueue_events is shadowed by a second definition), so it dies on its first tick.
		try:
			scheduler.enqueue_events_for_site()
		except Exception:
			monoframe.logger("scheduler").debug("Failed to enqueue events", exc_info=True)

	def start_scheduler():
		tick = scheduler.get_scheduler_tick()
		scheduler.set_niceness()
		try:
			lock = FileLock(scheduler._get_scheduler_lock_file())
			lock.acquire(blocking=False)
		except Timeout:
			monoframe.logger("scheduler").debug("Scheduler already running")
			return
		while True:
			time.sleep(scheduler.sleep_duration(tick))
			enqueue_events_for_all_sites()

	scheduler.enqueue_events_for_all_sites = enqueue_events_for_all_sites
	scheduler.start_scheduler = start_scheduler


def patch_tests_utils(tests_utils):
	# monoframe imports `monoframe.tests.utils.generators`, which it never shipped: make room for it.
	tests_utils.__path__ = []


def patch_test_result(result):
	# monoframe's result class asks for `warnings.DeprecationWarning`, which does not exist.
	warnings.DeprecationWarning = DeprecationWarning


def make_test_generators():
	module = types.ModuleType("monoframe.tests.utils.generators")

	def _clear_test_log():
		"""Real Frappe forgets which test records it made; monoframe keeps no such log."""

	module._clear_test_log = _clear_test_log
	return module


MODULE_PATCHES = {
	"monoframe": patch_monoframe,
	"monoframe.installer": patch_installer,
	"monoframe.model.sync": patch_sync,
	"monoframe.patches": patch_patches,
	"monoframe.config": patch_config,
	"monoframe.utils": patch_utils,
	"monoframe.utils.safe_exec": patch_safe_exec,
	"monoframe.utils.pdf": patch_pdf,
	"monoframe.api.v1": patch_api_v1,
	"monoframe.utils.scheduler": patch_scheduler,
	"monoframe.tests.utils": patch_tests_utils,
	"monoframe.testing.result": patch_test_result,
}

SYNTHETIC_MODULES = {"monoframe.tests.utils.generators": make_test_generators}
