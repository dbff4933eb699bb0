# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

from unioncase.reports.open_case_ageing import execute
