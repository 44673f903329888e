"""Souk's auth service: accounts, roles, tokens, signing keys and ``user.registered``.

Password login, ES256 access tokens, rotating refresh tokens and the JWKS that the other
services verify access tokens with.
"""
