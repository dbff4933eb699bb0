from unioncase.privacy.logs import apply_log_clearing


def execute():
	"""Sites installed before the logs that quote cases had clearing periods get them."""
	apply_log_clearing()
