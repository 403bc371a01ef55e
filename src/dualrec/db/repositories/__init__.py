"""Repositories: query/persist rows and return core values. They never commit (the UoW does)."""
