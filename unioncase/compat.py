"""The few places where Frappe v15 and v16 APIs differ, in one import."""

import importlib.util

# v16 builds get_list with the query engine in frappe.model.qb_query, which refuses SQL strings.
QUERY_ENGINE_LISTS = importlib.util.find_spec("frappe.model.qb_query") is not None


def aggregate(function: str, field: str, alias: str):
	"""An aggregate select field for frappe.get_list, e.g. aggregate("count", "*", "cases")."""
	if QUERY_ENGINE_LISTS:
		return {function.upper(): field, "as": alias}
	return f"{function}({field}) as {alias}"


def __getattr__(name):
	# Resolved on first use so that production code paths never import the test framework.
	if name == "IntegrationTestCase":
		try:  # v16
			from frappe.tests import IntegrationTestCase
		except ImportError:  # v15
			from frappe.tests.utils import FrappeTestCase as IntegrationTestCase
		return IntegrationTestCase
	raise AttributeError(name)
