"""Business metrics of the auth service, defined once (dashboards and alerts use the names)."""

from __future__ import annotations

from prometheus_client import Counter

# Exported as `souk_users_registered_total` (prometheus_client appends `_total`).
USERS_REGISTERED = Counter(
    "souk_users_registered",
    "Accounts created (counted when the registration transaction commits).",
    ["role"],
)
