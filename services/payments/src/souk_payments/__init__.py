"""Souk payments service: charges reserved orders, refunds cancelled ones, keeps a ledger."""
