from unioncase.workflows.install import install_lifecycle


def execute():
	"""Sites installed before the case lifecycle get its default workflow, board and assignment rules."""
	install_lifecycle()
