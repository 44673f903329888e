"""Alembic migrations of the payments database (run by ``souk-payments migrate``)."""
