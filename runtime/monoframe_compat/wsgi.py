"""The web tier's WSGI entry point for gunicorn (see `site.web_command`): Frappe's application, plus the
static files nginx serves beside it on a bench (`/assets`, `/files`), since no nginx runs here.

No debugger, no reloader: what bench's production setup serves.
"""

import os

from frappe.app import application as frappe_application
from werkzeug.middleware.shared_data import SharedDataMiddleware

from monoframe_compat.web import reuse_database_connections

# The web tier's workers keep their database connection between requests (see web.py).
reuse_database_connections()

# gunicorn starts in the site folder (--chdir), as `monoframe start` does.
application = SharedDataMiddleware(
	frappe_application,
	{
		"/assets": os.path.join(os.getcwd(), "assets"),
		"/files": os.path.join(os.getcwd(), "public", "files"),
	},
)
