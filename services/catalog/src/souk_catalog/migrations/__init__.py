"""Alembic migrations of the catalog database (run by ``souk-catalog migrate``)."""
