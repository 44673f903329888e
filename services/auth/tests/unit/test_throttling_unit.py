"""Client address selection for throttling (X-Forwarded-For only behind trusted proxies)."""

from __future__ import annotations

import pytest

from souk_auth.throttling import client_address


@pytest.mark.parametrize(
    ("peer", "forwarded", "hops", "expected"),
    [
        ("10.0.0.5", None, 0, "10.0.0.5"),
        ("10.0.0.5", "1.2.3.4", 0, "10.0.0.5"),  # not trusted: the header is ignored
        ("10.0.0.5", "6.6.6.6, 1.2.3.4", 1, "1.2.3.4"),  # the ingress appended 1.2.3.4
        ("10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.9", 2, "1.2.3.4"),
        ("10.0.0.5", "1.2.3.4", 3, "1.2.3.4"),  # fewer entries than hops: leftmost
        ("10.0.0.5", " , ", 1, "10.0.0.5"),
        (None, None, 0, "unknown"),
    ],
)
def test_client_address(peer, forwarded, hops, expected):
    assert client_address(peer, forwarded, hops) == expected
