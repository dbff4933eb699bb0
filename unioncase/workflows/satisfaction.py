"""Asking the worker, once the case is resolved, how satisfied they are (1 to 5, with a comment).

The email carries a random token; only its SHA-256 is stored, and it works once. Anonymous cases get
no request: nothing may tie them to a reachable person.
"""

import hashlib
import secrets

import frappe
from frappe import _
from frappe.rate_limiter import rate_limit
from frappe.utils import get_url, now_datetime

PAGE = "/case-feedback"
MAX_RATING = 5


def token_hash(token: str) -> str:
	return hashlib.sha256(token.encode()).hexdigest()


def reporter_email(doc) -> str | None:
	if doc.is_anonymous:
		return None
	return doc.reporter_email or (doc.member and frappe.db.get_value("Union Member", doc.member, "email"))


def request_satisfaction(doc):
	email = reporter_email(doc)
	if not email or doc.satisfaction_rated_on:
		return
	token = secrets.token_urlsafe(32)
	link = get_url(f"{PAGE}?token={token}")
	try:
		frappe.sendmail(
			recipients=[email],
			subject=_("Your case {0} is resolved: how did we do?").format(doc.name),
			message=_(
				"Your union has resolved your case {0}. Please tell us how satisfied you are with how it was handled: {1}"
			).format(doc.name, f'<a href="{link}">{link}</a>'),
			reference_doctype=doc.doctype,
			reference_name=doc.name,
		)
	except frappe.OutgoingEmailError:
		# The case is resolved all the same; the site only lacks an outgoing email account.
		frappe.msgprint(
			_("The worker was not asked for a satisfaction rating: no outgoing email account is set up."),
			indicator="orange",
			alert=True,
		)
		return
	doc.db_set(
		{"satisfaction_token_hash": token_hash(token), "satisfaction_requested_on": now_datetime()},
		update_modified=False,
	)


def case_for_token(token: str | None) -> str | None:
	if not token:
		return None
	return frappe.db.get_value("Grievance", {"satisfaction_token_hash": token_hash(token)}, "name")


@frappe.whitelist(allow_guest=True, methods=["POST"])
@rate_limit(limit=20, seconds=60 * 60)
def submit_rating(token: str, rating, comment: str | None = None):
	"""Record the worker's rating (the page's plain form posts here) and show the thank-you page."""
	name = case_for_token(token)
	rating = frappe.utils.cint(rating)
	if not name:
		frappe.throw(_("This link is not valid or has already been used."), title=_("Link not valid"))
	if not 1 <= rating <= MAX_RATING:
		frappe.throw(_("Choose a rating from 1 to {0}.").format(MAX_RATING), title=_("Rating missing"))
	frappe.db.set_value(
		"Grievance",
		name,
		{
			"satisfaction_rating": rating / MAX_RATING,
			"satisfaction_comment": (comment or "").strip()[:2000] or None,
			"satisfaction_rated_on": now_datetime(),
			"satisfaction_token_hash": None,
		},
		update_modified=False,
	)
	frappe.get_doc("Grievance", name).add_comment(
		"Info", _("The worker rated the handling of the case {0} out of {1}.").format(rating, MAX_RATING)
	)
	frappe.local.response["type"] = "redirect"
	frappe.local.response["location"] = f"{PAGE}?done=1"
