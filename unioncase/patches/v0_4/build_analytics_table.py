"""Build and fill the analytics table (reports/summary.py) from the existing cases, with progress."""

from unioncase.reports import summary


def execute():
	summary.ensure_table()
	summary.rebuild(progress=True)
