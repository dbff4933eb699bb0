"""Input limits: every field of every UnionCase DocType refuses values no user could mean (field_limits)."""
