# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

from unioncase.reports.case_volume import execute
