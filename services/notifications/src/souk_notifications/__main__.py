"""Command line of the notifications service: ``serve``, ``migrate``, ``seed``."""

from souk_common.cli import run_service_cli
from souk_notifications.config import NotificationsSettings
from souk_notifications.manifest import MANIFEST


def main() -> None:
    """Run the notifications command line."""
    run_service_cli(MANIFEST, NotificationsSettings)


if __name__ == "__main__":
    main()
