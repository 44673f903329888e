"""Errors the auth service returns, each with a stable problem+json ``code``.

They extend souk_common's hierarchy, so the shared handler renders them; clients branch on
``code`` (e.g. a web app sends the user to the login page on ``refresh_token_reused``).
"""

from __future__ import annotations

from typing import Any

from souk_common.errors import ConflictError, ForbiddenError, UnauthorizedError


class EmailTakenError(ConflictError):
    """An account with this email already exists."""

    code, title = "email_taken", "Email already registered"


class InvalidCredentialsError(UnauthorizedError):
    """Unknown email or wrong password: one body for both, so emails cannot be probed."""

    code, title = "invalid_credentials", "Invalid credentials"

    def __init__(self, **extensions: Any) -> None:
        super().__init__("The email or password is incorrect.", **extensions)


class AccountDisabledError(ForbiddenError):
    """The account is deactivated; only said after the password was verified."""

    code, title = "account_disabled", "Account disabled"


class InvalidRefreshTokenError(UnauthorizedError):
    """The refresh token is missing, unknown, expired or revoked."""

    code, title = "invalid_refresh_token", "Invalid refresh token"


class RefreshTokenReusedError(UnauthorizedError):
    """An already rotated refresh token came back: its whole family is now revoked."""

    code, title = "refresh_token_reused", "Refresh token reused"


class SelfLockoutError(ConflictError):
    """An admin tried to remove their own admin role or deactivate themselves."""

    code, title = "self_lockout", "Cannot lock yourself out"
