from unioncase.hierarchy.ancestry import refresh_case_ancestry


def execute():
	"""Cases created before cases carried their branch, federation and confederation."""
	refresh_case_ancestry()
