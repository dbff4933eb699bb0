"""Workers' identities: what is kept, and what is never kept."""
