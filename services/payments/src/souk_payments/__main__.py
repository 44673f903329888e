"""Command line of the payments service: ``serve``, ``migrate``, ``seed``."""

from souk_common.cli import run_service_cli
from souk_payments.config import PaymentsSettings
from souk_payments.manifest import MANIFEST


def main() -> None:
    """Run the payments command line."""
    run_service_cli(MANIFEST, PaymentsSettings)


if __name__ == "__main__":
    main()
