"""The workers' pages served straight from their templates, through Frappe's `page_renderer` hook.

/lapor and /kasus (and their English addresses, mapped by `website_route_rules`) are self-contained
HTML with their own head, no Desk assets and no website chrome, so the generic page renderer's work
(finding the file among the www folders on every request, website settings, sidebar, meta tags, a base
template, compiling the page's source again) buys them nothing. Measured on a report posted to /lapor,
it was a third of the request. This renderer (registered in hooks.py) builds the same context
(`web.report_context`, `web.track_context`, as the `www/*.py` files do) and renders the same templates,
compiled once, in a plain jinja environment kept for the process: Frappe builds its environment again
for every request (every app's jinja hooks imported and the request's safe globals set), another fifth
of the request. These templates are the app's own files, not admins' (nothing to sandbox), use nothing
of Frappe's environment but `_` and `frappe.format`, and escape what they show with `|e` (Frappe's
environment does not autoescape either).
"""

import frappe
from frappe.website.page_renderers.base_renderer import BaseRenderer
from jinja2 import Environment, FileSystemLoader

# endpoint -> (context builder, template)
PAGES = {
	"lapor": ("unioncase.intake.web.report_context", "www/lapor.html"),
	"kasus": ("unioncase.intake.web.track_context", "www/kasus.html"),
}


class WorkerPage(BaseRenderer):
	def can_render(self) -> bool:
		return self.path in PAGES

	def render(self):
		builder, template = PAGES[self.path]
		context = frappe._dict()
		frappe.get_attr(builder)(context)
		html = environment().get_template(template).render(context)
		return self.build_response(html, context.http_status_code or 200)


_environment: Environment | None = None


def environment() -> Environment:
	global _environment
	if _environment is None:
		# the app's own files, not admins' templates: nothing to sandbox
		_environment = Environment(loader=FileSystemLoader(frappe.get_app_path("unioncase")))
		_environment.globals.update({"_": frappe._, "frappe": frappe._dict(format=frappe.format)})
	return _environment
