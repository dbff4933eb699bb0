"""An anonymous report keeps no identity, whatever the form or channel sent along."""

REPORTER_IDENTITY_FIELDS = ("member", "reporter_name", "reporter_phone", "reporter_email")


def strip_reporter_identity(doc):
	if doc.is_anonymous:
		for fieldname in REPORTER_IDENTITY_FIELDS:
			doc.set(fieldname, None)
