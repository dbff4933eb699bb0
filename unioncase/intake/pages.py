"""The workers' pages served straight from their templates, through Frappe's `page_renderer` hook.

NOT REGISTERED YET: with it in hooks.py (`page_renderer = ["unioncase.intake.pages.WorkerPage"]`) the
Desk's Kanban browser test (tests/browser/test_desk.py -k kanban) never shows its columns; the cause is
not found yet. The intake benchmark's figures in benchmarks/README.md were measured with it registered.

/lapor and /kasus (and their English addresses, mapped by `website_route_rules`) are self-contained
HTML with their own head, no Desk assets and no website chrome, so the generic page renderer's work
(finding the file among the www folders on every request, website settings, sidebar, meta tags, a base
template, compiling the page's source again) buys them nothing. Measured on a report posted to /lapor,
it was a third of the request. This renderer builds the same context (`web.report_context`,
`web.track_context`, as the `www/*.py` files do) and renders the same templates, compiled once, in a
jinja environment of their own kept for the process: Frappe builds its environment again for every
request (every app's jinja hooks imported and the request's safe globals set), another fifth of the
request, and these templates use nothing of it but `_` and `frappe.format` (they escape what they show with `|e`, as
Frappe's environment does not autoescape).
"""

import frappe
from frappe.website.page_renderers.base_renderer import BaseRenderer
from jinja2 import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment

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


_environment: SandboxedEnvironment | None = None


def environment() -> SandboxedEnvironment:
	global _environment
	if _environment is None:
		_environment = SandboxedEnvironment(loader=FileSystemLoader(frappe.get_app_path("unioncase")))
		_environment.globals.update({"_": frappe._, "frappe": frappe._dict(format=frappe.format)})
	return _environment
