"""Souk catalog service: categories, seller-owned products, stock and order reservations."""
