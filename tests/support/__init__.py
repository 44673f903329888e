"""Helpers for the cross-service suites."""
