"""Command line of the orders service: ``serve``, ``migrate``, ``seed``."""

from souk_common.cli import run_service_cli
from souk_orders.config import OrdersSettings
from souk_orders.manifest import MANIFEST


def main() -> None:
    """Run the orders command line."""
    run_service_cli(MANIFEST, OrdersSettings)


if __name__ == "__main__":
    main()
