"""Report a problem: the workers' reporting page (no Desk assets, works without JavaScript)."""

from unioncase.intake.web import report_context

no_cache = 1


def get_context(context):
	return report_context(context)
