"""Souk notifications service: tells users what happened to their accounts and orders."""
