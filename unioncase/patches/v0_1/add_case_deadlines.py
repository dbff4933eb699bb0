from unioncase.workflows.deadlines import fill_open_case_deadlines, make_default_deadline_records


def execute():
	"""Sites installed before deadlines: the default calendar, rules, pausing states and settings, and
	deadlines for the cases still open."""
	make_default_deadline_records()
	fill_open_case_deadlines()
