"""Numbered SQL migrations; the only place the schema is defined. No Python imports."""
