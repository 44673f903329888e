"""Request and response bodies of the auth API (Pydantic).

Emails are validated with ``email-validator`` and lower-cased. Pydantic's ``EmailStr`` is not
used because it refuses special-use domains such as ``.test`` (RFC 2606), and the demo
accounts live at ``souk.test``; deliverability is never checked (no DNS at request time).
Passwords are ``SecretStr`` so they never show up in a repr, a log line or an error body.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from souk_auth.passwords import password_problem

Role = Literal["buyer", "seller", "admin"]
MAX_LOGIN_PASSWORD_LENGTH = 1024


def normalise_email(value: str) -> str:
    """Return the normalised, lower-cased form of an email address (error type ``email``)."""
    try:
        result = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        raise PydanticCustomError(
            "email", "value is not a valid email address: {reason}", {"reason": str(error)}
        ) from None
    return result.normalized.lower()


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=320),
    AfterValidator(normalise_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": 320}),
]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class RegisterRequest(BaseModel):
    """``POST /api/auth/register``."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    password: SecretStr
    display_name: DisplayName
    role: Role = "buyer"

    @field_validator("password")
    @classmethod
    def _password_policy(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        problem = password_problem(value.get_secret_value(), info.data.get("email"))
        if problem is not None:
            raise PydanticCustomError("password_policy", "password {problem}", {"problem": problem})
        return value


class LoginRequest(BaseModel):
    """``POST /api/auth/login``; the policy is not applied, only a sanity bound."""

    email: Email
    password: Annotated[SecretStr, Field(max_length=MAX_LOGIN_PASSWORD_LENGTH)]


class RefreshRequest(BaseModel):
    """``POST /api/auth/refresh`` and ``/logout``; the token may come in the cookie instead."""

    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=512)] | None = None


class TokenResponse(BaseModel):
    """A new token pair; the same values are set as httpOnly cookies."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth 2 token type
    # Seconds until the access token expires.
    expires_in: int


class UserOut(BaseModel):
    """A user as the API shows it (never the password hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime


class UserPage(BaseModel):
    """One page of users for admins."""

    items: list[UserOut]
    total: int
    limit: int
    offset: int


class UserUpdate(BaseModel):
    """``PATCH /api/auth/users/{id}``: only the fields present change."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    is_active: bool | None = None
    display_name: DisplayName | None = None
