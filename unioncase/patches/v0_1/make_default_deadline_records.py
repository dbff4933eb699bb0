from unioncase.workflows.deadlines import make_default_deadline_records


def execute():
	"""Sites installed before deadlines: the default calendar, rules, pausing states and settings."""
	make_default_deadline_records()
