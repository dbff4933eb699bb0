"""The web request's own patches (applied after patches.py and desk.py; see README "What is patched").

- `app.make_form_dict`: a whitelisted method that takes no arguments gets a JSON body that does not
  parse (or is a bare scalar) as raw bytes (`frappe.request.get_data()`) instead of a 417, so a webhook
  checks its signature on exactly what was sent:
  monoframe (like Frappe) parses a JSON body before any handler runs, and answers an invalid one (a
  truncated delivery, a forged body) with 417 "Invalid request body" and a JSON scalar with 417
  "Invalid request arguments", before the handler can check who sent it. A body that parses is parsed
  as before for every method (some of Frappe's, `frappe.desk.reportview.get` for one, take no
  arguments and read `form_dict`); every other method still gets the 417.
- `reuse_database_connections` (called by wsgi.py, so only the web tier's gunicorn workers): each worker
  keeps its MariaDB connection from one request to the next, rolled back at the request's end, instead
  of opening one per request (a handshake and an authentication: a sixth of what a report posted to
  /lapor cost, and nothing that `ping`, which never queries, pays). A connection is taken again only in
  the process and thread that opened it, after a ping (MariaDB's wait_timeout, a restart), and closed
  for good if the rollback fails.
- `website.path_resolver.resolve_from_map`: the website's route rules (hooks `website_route_rules`,
  DocType routes) are compiled into a werkzeug Map once per process and set of rules, not on every page
  request (compiling them was a fifth of what a worker's report on /lapor cost).
"""

import inspect
import os
import threading

METHOD_PREFIXES = ("/api/method/", "/api/v1/method/", "/api/v2/method/")


def patch_app(app):
	import monoframe

	original = app.make_form_dict
	takes_nothing: dict[str, bool] = {}

	def raw_body_method(request) -> bool:
		path = request.path
		prefix = next((prefix for prefix in METHOD_PREFIXES if path.startswith(prefix)), None)
		name = path[len(prefix) :].strip("/") if prefix else ""
		if not name or "." not in name or "/" in name:
			return False
		if name not in takes_nothing:
			try:
				method = monoframe.get_attr(monoframe.override_whitelisted_method(name))
			except Exception:
				return False  # not a method: the handler answers as it always does
			takes_nothing[name] = method in monoframe.whitelisted and not inspect.signature(method).parameters
		return takes_nothing[name]

	def make_form_dict(request):
		try:
			original(request)
		except (monoframe.DataError, monoframe.ValidationError):
			# a body that does not parse (or is a bare JSON scalar): a method without arguments (which some
			# Frappe methods read from form_dict, so a body that parses is still parsed) gets it raw
			if not (request.is_json and raw_body_method(request)):
				raise
			if getattr(monoframe.local, "message_log", None):
				monoframe.local.message_log.pop()
			monoframe.local.form_dict = monoframe._dict(request.args or {})
			monoframe.local.form_dict.pop("_", None)

	app.make_form_dict = make_form_dict


def patch_path_resolver(path_resolver):
	import monoframe
	from werkzeug.exceptions import NotFound
	from werkzeug.routing import Map, Rule

	compiled: dict[str, object] = {"rules": None, "map": None}

	def resolve_from_map(path):
		rules = path_resolver.get_website_rules()
		# the rules as last compiled (an equality test: cheaper than serialising them for a key)
		if rules != compiled["rules"]:
			compiled["map"] = Map(
				[Rule(r["from_route"], endpoint=r["to_route"], defaults=r.get("defaults")) for r in rules]
			)
			compiled["rules"] = rules
		route_map = compiled["map"]
		# monoframe.website.router.evaluate_dynamic_routes, with the compiled map
		endpoint = None
		if hasattr(monoframe.local, "request") and monoframe.local.request.environ:
			urls = route_map.bind_to_environ(monoframe.local.request.environ)
			try:
				endpoint, args = urls.match("/" + path)
				if args:
					monoframe.local.no_cache = 1  # don't cache when there's a query string
					monoframe.local.form_dict.update(args)
			except NotFound:
				pass
		return endpoint or path

	path_resolver.resolve_from_map = resolve_from_map


def reuse_database_connections():
	from monoframe.database.database import Database
	from monoframe.database.mariadb import mysqlclient

	kept: dict[tuple, object] = {}
	original_create, original_close = mysqlclient.MariaDBConnectionUtil.create_connection, Database.close

	def create_connection(self):
		settings = self.get_connection_settings()
		key = (
			os.getpid(),
			threading.get_ident(),
			*(str(settings.get(name)) for name in ("user", "database", "host", "port", "unix_socket")),
		)
		self._kept_as = key
		connection = kept.pop(key, None)
		if connection is not None:
			try:
				connection.ping()
				return connection
			except Exception:
				try:
					connection.close()
				except Exception:
					pass
		return original_create(self)

	def close(self):
		key, connection = getattr(self, "_kept_as", None), self._conn
		if connection is not None and key and key[0] == os.getpid() and key[1] == threading.get_ident():
			try:
				connection.rollback()  # nothing of this request's transaction carries over
				if self._cursor:
					self._cursor.close()
				kept[key] = connection
				self._cursor = self._conn = None
				return
			except Exception:
				pass
		original_close(self)

	mysqlclient.MariaDBConnectionUtil.create_connection = create_connection
	mysqlclient.MariaDBDatabase.close = close


MODULE_PATCHES = {
	"monoframe.app": patch_app,
	"monoframe.website.path_resolver": patch_path_resolver,
}
