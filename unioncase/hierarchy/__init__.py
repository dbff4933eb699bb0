"""The union hierarchy: who may see which part of the tree, and how that is enforced on every path."""
