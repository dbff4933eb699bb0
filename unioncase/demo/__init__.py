"""Demo data for UnionCase: a fictional Indonesian confederation with its cases (see `generator`)."""
