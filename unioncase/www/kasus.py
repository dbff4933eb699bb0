"""Track my case: a tracking code in, the case's stage and the union's messages out."""

from unioncase.intake.web import track_context

no_cache = 1


def get_context(context):
	return track_context(context)
