"""Alembic migrations of the auth database (run by ``souk-auth migrate``)."""
