"""Alembic migrations of the orders service."""
