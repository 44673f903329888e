"""Registration: the account, its validation errors, role escalation and the event."""

from __future__ import annotations

import json

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text


async def test_register_creates_buyer_without_exposing_the_hash(api):
    response = await api.register("New.Buyer@Souk.TEST")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "new.buyer@souk.test"
    assert body["role"] == "buyer"
    assert body["is_active"] is True
    assert body["display_name"] == "Test User"
    assert "password" not in json.dumps(body)
    assert set(body) == {
        "id",
        "email",
        "display_name",
        "role",
        "is_active",
        "created_at",
        "updated_at",
    }


async def test_duplicate_email_is_409_email_taken_case_insensitively(api):
    assert (await api.register("dup@souk.test")).status_code == 201
    response = await api.register("DUP@souk.test", role="seller")
    body = api.problem(response, 409, "email_taken")
    assert "already exists" in body["detail"]


@pytest.mark.parametrize(
    "password",
    ["short-Pw1", "aaaaaaaaaaaaaaaa", "123456789012345", "password1234", "x" * 129 + "A"],
)
async def test_weak_password_is_422_naming_body_password(api, password):
    response = await api.register("weak@souk.test", password=password)
    body = api.problem(response, 422, "validation_failed")
    assert [error["field"] for error in body["errors"]] == ["body.password"]
    assert password not in response.text


async def test_password_containing_the_email_name_is_refused(api):
    response = await api.register("margarethe@souk.test", password="Margarethe-2024!")
    body = api.problem(response, 422, "validation_failed")
    assert body["errors"][0]["field"] == "body.password"
    assert "email" in body["errors"][0]["message"]


@pytest.mark.parametrize("email", ["not-an-email", "two@@souk.test", "a@", "@souk.test"])
async def test_malformed_email_is_422_naming_body_email(api, email):
    response = await api.register(email)
    body = api.problem(response, 422, "validation_failed")
    assert [error["field"] for error in body["errors"]] == ["body.email"]


async def test_unknown_role_is_422(api):
    response = await api.register("role@souk.test", role="superuser")
    body = api.problem(response, 422, "validation_failed")
    assert body["errors"][0]["field"] == "body.role"


async def test_anonymous_cannot_register_an_admin(api):
    response = await api.register("sneaky@souk.test", role="admin")
    api.problem(response, 403, "forbidden")
    assert (await api.login("sneaky@souk.test")).status_code == 401


async def test_buyer_cannot_register_an_admin(api):
    tokens = await api.user_tokens("buyer1@souk.test")
    response = await api.register("sneaky@souk.test", role="admin", token=tokens["access_token"])
    api.problem(response, 403, "forbidden")


async def test_signing_up_ignores_a_stale_token_unless_an_admin_is_requested(api):
    assert (await api.register("fresh@souk.test", token="stale.garbage.token")).status_code == 201
    response = await api.register("fresh-admin@souk.test", role="admin", token="stale.garbage")
    api.problem(response, 401, "unauthorized")


async def test_admin_can_register_an_admin(api):
    tokens = await api.admin_tokens()
    response = await api.register("second-admin@souk.test", "admin", tokens["access_token"])
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "admin"


async def test_user_registered_is_staged_in_the_outbox_with_the_request_id(api, app):
    response = await api.client.post(
        "/api/auth/register",
        json={
            "email": "evented@souk.test",
            "password": "correct-Horse-battery",
            "display_name": "Evented",
            "role": "seller",
        },
        headers={"X-Request-ID": "req-register-42"},
    )
    assert response.status_code == 201, response.text
    assert response.headers["x-request-id"] == "req-register-42"
    user_id = response.json()["id"]
    async with app.state.runtime.database.engine.connect() as connection:
        rows = (
            await connection.execute(text("SELECT stream, type, fields FROM event_outbox"))
        ).all()
    assert len(rows) == 1
    stream, event_type, fields = rows[0]
    assert event_type == "user.registered"
    assert stream == f"{app.state.runtime.settings.stream_prefix}auth.events"
    assert fields["correlationid"] == "req-register-42"
    assert fields["source"] == "auth"
    assert json.loads(fields["data"]) == {
        "schema_version": 1,
        "user_id": user_id,
        "email": "evented@souk.test",
        "display_name": "Evented",
        "role": "seller",
    }


async def test_failed_registration_stages_no_event(api, app):
    assert (await api.register("once@souk.test")).status_code == 201
    assert (await api.register("once@souk.test")).status_code == 409
    async with app.state.runtime.database.engine.connect() as connection:
        count = await connection.scalar(text("SELECT count(*) FROM event_outbox"))
    assert count == 1


async def test_registration_counter_counts_committed_registrations(api):
    def value() -> float:
        return REGISTRY.get_sample_value("souk_users_registered_total", {"role": "seller"}) or 0.0

    before = value()
    assert (await api.register("counted@souk.test", role="seller")).status_code == 201
    assert (await api.register("counted@souk.test", role="seller")).status_code == 409
    assert value() == before + 1
    metrics = await api.client.get("/metrics")
    assert 'souk_users_registered_total{role="seller"}' in metrics.text
