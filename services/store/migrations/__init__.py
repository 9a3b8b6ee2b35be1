"""Alembic migrations of the store database (shipped inside the package)."""
