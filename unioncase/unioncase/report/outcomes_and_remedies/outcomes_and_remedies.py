# Copyright (c) 2026, UnionCase contributors
# For license information, please see license.txt

from unioncase.reports.outcomes_and_remedies import execute
