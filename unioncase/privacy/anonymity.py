"""An anonymous report keeps no identity, whatever the form or channel sent along."""

from unioncase.privacy.identity import IDENTITY_FIELDS

REPORTER_IDENTITY_FIELDS = IDENTITY_FIELDS["Grievance"]


def strip_reporter_identity(doc):
	if doc.is_anonymous:
		for fieldname in REPORTER_IDENTITY_FIELDS:
			doc.set(fieldname, None)
