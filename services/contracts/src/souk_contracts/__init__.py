"""Souk's cross-service contracts.

Which services exist, what they subscribe to, and the versioned payloads of the events they
exchange. No behaviour lives here.
"""

from souk_contracts.events import EVENT_PAYLOADS, EventPayload, UserRegisteredV1
from souk_contracts.topology import SERVICES, ServiceTopology, subscriptions

__all__ = [
    "EVENT_PAYLOADS",
    "SERVICES",
    "EventPayload",
    "ServiceTopology",
    "UserRegisteredV1",
    "subscriptions",
]
