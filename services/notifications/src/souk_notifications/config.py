"""Settings of the notifications service."""

from __future__ import annotations

from souk_common.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    """Environment settings for notifications; everything else comes from the shared base."""

    # Defaults to this service's name; a Deployment may override it for clarity only.
    service_name: str = "notifications"
    # Largest page a client may ask for on GET /api/notifications.
    max_page_size: int = 100
