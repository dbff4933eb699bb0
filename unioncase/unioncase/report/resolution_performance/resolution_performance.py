# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

from unioncase.reports.resolution_performance import execute
