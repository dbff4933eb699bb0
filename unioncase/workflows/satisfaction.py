"""Asking the worker, once the case is resolved, how satisfied they are (1 to 5, with a comment).

The email carries a random token; only its SHA-256 is stored, and it works once. Anonymous cases get
no request: nothing may tie them to a reachable person.
"""

import hashlib
import secrets

import frappe
from frappe import _
from frappe.utils import cint, cstr, get_url, now_datetime

PAGE = "/case-feedback"
MAX_RATING = 5
MAX_COMMENT = 2000
# Requests per visitor (IP) and hour: the page and the form are open to anyone holding a link.
PAGE_VIEWS_PER_HOUR = 60
SUBMISSIONS_PER_HOUR = 20


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
	"""The case a link's token opens (one read on the unique index of the hash), if still unused."""
	if not token or not isinstance(token, str) or len(token) > 128:
		return None
	return frappe.db.get_value("Grievance", {"satisfaction_token_hash": token_hash(token)}, "name")


def limit_requests(bucket: str, limit: int):
	"""At most `limit` requests an hour per visitor (IP) for this bucket, else 429.

	Frappe's `rate_limit` decorator keys its counter by `form_dict.cmd`, which web pages and /api/v2
	calls do not set, so the page would share one counter with every other such endpoint.
	"""
	if not getattr(frappe.local, "request", None):
		return
	key = frappe.cache.make_key(f"unioncase:rate:{bucket}:{frappe.local.request_ip}")
	count = frappe.cache.incrby(key, 1)
	if count == 1:
		frappe.cache.expire(key, 60 * 60)
	if count > limit:
		frappe.throw(
			_("You hit the rate limit because of too many requests. Please try after sometime."),
			frappe.RateLimitExceededError,
		)


@frappe.whitelist(allow_guest=True, methods=["POST"])
def submit_rating(token: str, rating: str | int | None = None, comment: str | None = None):
	"""Record the worker's rating (the page's plain form posts here) and show the thank-you page.

	The token is consumed by one UPDATE that matches it only while still unused, so two submissions
	(a double tap, two tabs) cannot both count.
	"""
	limit_requests("case-feedback-submit", SUBMISSIONS_PER_HOUR)
	name = case_for_token(token)
	if not name:
		frappe.throw(_("This link is not valid or has already been used."), title=_("Link not valid"))
	rating = cint(rating) if cstr(rating).strip().isdecimal() else 0
	if not 1 <= rating <= MAX_RATING:
		frappe.throw(_("Choose a rating from 1 to {0}.").format(MAX_RATING), title=_("Rating missing"))
	comment = cstr(comment).strip()
	if len(comment) > MAX_COMMENT:
		frappe.throw(
			_("{0} is too long: at most {1} characters.").format(_("Comment"), MAX_COMMENT),
			title=_("Comment too long"),
		)
	frappe.db.sql(
		"""update `tabGrievance`
		set satisfaction_rating = %(rating)s, satisfaction_comment = %(comment)s,
			satisfaction_rated_on = %(now)s, satisfaction_token_hash = null
		where name = %(name)s and satisfaction_token_hash = %(hash)s and satisfaction_rated_on is null""",
		{
			"rating": rating / MAX_RATING,
			"comment": comment or None,
			"now": now_datetime(),
			"name": name,
			"hash": token_hash(token),
		},
	)
	if not frappe.db.sql("select row_count()")[0][0]:  # another submission consumed it first
		frappe.throw(_("This link is not valid or has already been used."), title=_("Link not valid"))
	frappe.get_doc("Grievance", name).add_comment(
		"Info", _("The worker rated the handling of the case {0} out of {1}.").format(rating, MAX_RATING)
	)
	frappe.local.response["type"] = "redirect"
	frappe.local.response["location"] = f"{PAGE}?done=1"
