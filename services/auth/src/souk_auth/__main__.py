"""``python -m souk_auth`` / ``souk-auth``: serve, migrate or seed the auth service."""

from __future__ import annotations

from souk_auth.config import AuthSettings
from souk_auth.manifest import MANIFEST
from souk_common.cli import run_service_cli


def main() -> None:
    """Run the auth service's command line."""
    run_service_cli(MANIFEST, AuthSettings)


if __name__ == "__main__":
    main()
