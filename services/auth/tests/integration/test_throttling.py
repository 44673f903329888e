"""Login throttling in Redis: per account and per client address, with Retry-After."""

from __future__ import annotations

import pytest

WRONG = "Wrong-password-123"


@pytest.fixture
def settings_overrides():
    return {
        "login_max_failures_per_account": 3,
        "login_account_window_seconds": 120,
        "login_max_failures_per_address": 5,
        "login_address_window_seconds": 60,
    }


async def test_account_is_throttled_after_the_limit_even_with_the_right_password(
    api, redis_client, settings
):
    await api.register("target@souk.test")
    for _ in range(3):
        api.problem(await api.login("target@souk.test", WRONG), 401, "invalid_credentials")
    response = await api.login("target@souk.test")
    body = api.problem(response, 429, "rate_limited")
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= 120
    assert body["retry_after"] == retry_after
    keys = [key.decode() async for key in redis_client.scan_iter(f"{settings.stream_prefix}*")]
    assert any(key.startswith(f"{settings.stream_prefix}auth:throttle:account:") for key in keys)
    assert not any("target@souk.test" in key for key in keys)  # no personal data in key names
    for key in keys:
        assert await redis_client.ttl(key) > 0


async def test_successful_login_clears_the_account_counter(api):
    await api.register("forgetful@souk.test")
    for _ in range(2):
        await api.login("forgetful@souk.test", WRONG)
    assert (await api.login("forgetful@souk.test")).status_code == 200
    for _ in range(2):
        api.problem(await api.login("forgetful@souk.test", WRONG), 401, "invalid_credentials")
    assert (await api.login("forgetful@souk.test")).status_code == 200


async def test_one_address_trying_many_accounts_is_throttled(api):
    for number in range(5):
        await api.login(f"guess{number}@souk.test", WRONG)
    response = await api.login("another@souk.test", WRONG)
    api.problem(response, 429, "rate_limited")
    assert 0 < int(response.headers["retry-after"]) <= 60


async def test_forwarded_for_is_ignored_without_trusted_proxies(api):
    for number in range(5):
        await api.client.post(
            "/api/auth/login",
            json={"email": f"spoof{number}@souk.test", "password": WRONG},
            headers={"X-Forwarded-For": f"203.0.113.{number}"},
        )
    response = await api.client.post(
        "/api/auth/login",
        json={"email": "spoof9@souk.test", "password": WRONG},
        headers={"X-Forwarded-For": "203.0.113.99"},
    )
    api.problem(response, 429, "rate_limited")
