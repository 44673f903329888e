"""Behind a trusted proxy, each forwarded client address has its own counter."""

from __future__ import annotations

import pytest

WRONG = "Wrong-password-123"


@pytest.fixture
def settings_overrides():
    return {"login_max_failures_per_address": 2, "trusted_proxy_hops": 1}


async def test_forwarded_addresses_are_counted_separately(api):
    async def attempt(address: str, email: str) -> int:
        response = await api.client.post(
            "/api/auth/login",
            json={"email": email, "password": WRONG},
            headers={"X-Forwarded-For": f"198.51.100.7, {address}"},
        )
        return response.status_code

    assert [await attempt("203.0.113.1", f"a{n}@souk.test") for n in range(3)] == [401, 401, 429]
    assert await attempt("203.0.113.2", "b@souk.test") == 401
