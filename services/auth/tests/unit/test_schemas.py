"""Request schemas: email normalisation and the password policy's error shape."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from souk_auth.schemas import LoginRequest, RegisterRequest


def test_email_is_normalised_and_test_domains_are_allowed():
    request = RegisterRequest.model_validate(
        {
            "email": "  Buyer@Souk.TEST ",
            "password": "souk-demo-password",
            "display_name": " Demo ",
        }
    )
    assert request.email == "buyer@souk.test"
    assert request.display_name == "Demo"
    assert request.role == "buyer"


def test_weak_password_error_names_the_field_and_hides_the_value():
    with pytest.raises(ValidationError) as error:
        RegisterRequest.model_validate(
            {"email": "a@souk.test", "password": "aaaaaaaaaaaaaa", "display_name": "A"}
        )
    (item,) = error.value.errors()
    assert item["loc"] == ("password",)
    assert item["type"] == "password_policy"
    assert item["msg"].startswith("password must mix")


def test_password_never_appears_in_a_repr():
    request = RegisterRequest.model_validate(
        {"email": "a@souk.test", "password": "souk-demo-password", "display_name": "A"}
    )
    assert "souk-demo-password" not in repr(request)
    assert "souk-demo-password" not in str(request.model_dump())


def test_unknown_fields_are_refused_on_register():
    with pytest.raises(ValidationError):
        RegisterRequest.model_validate(
            {
                "email": "a@souk.test",
                "password": "souk-demo-password",
                "display_name": "A",
                "is_admin": True,
            }
        )


def test_login_does_not_apply_the_policy():
    assert LoginRequest.model_validate({"email": "a@souk.test", "password": "old"}).email
