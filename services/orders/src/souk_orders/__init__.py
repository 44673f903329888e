"""Souk orders service: orders, their lines and status history, idempotent placement, the saga."""
