"""Build and fill the monthly rollup (reports/rollup.py) from the analytics table."""

from unioncase.reports import rollup, summary


def execute():
	if summary.exists() and rollup.ensure_table():
		rollup.rebuild()
