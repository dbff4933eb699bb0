"""How workers reach UnionCase: the channels' shared pieces."""
