"""The workers' pages served straight from their templates, through Frappe's `page_renderer` hook.

/lapor and /kasus (and their English addresses, mapped by `website_route_rules`) are self-contained
HTML with their own head, no Desk assets and no website chrome, so the generic page renderer's work
(finding the file among the www folders on every request, website settings, sidebar, meta tags, a base
template, compiling the page's source again) buys them nothing. Measured on a report posted to /lapor,
it was a third of the request. This renderer builds the same context (`web.report_context`,
`web.track_context`, as the `www/*.py` files do) and renders the same templates, compiled once.
"""

import frappe
from frappe.website.page_renderers.base_renderer import BaseRenderer

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
		html = frappe.render_template(template, context, is_path=True)
		return self.build_response(html, context.http_status_code or 200)
