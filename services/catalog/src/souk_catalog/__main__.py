"""Command line of the catalog service: ``serve``, ``migrate``, ``seed``."""

from souk_catalog.config import CatalogSettings
from souk_catalog.manifest import MANIFEST
from souk_common.cli import run_service_cli


def main() -> None:
    """Run the catalog command line."""
    run_service_cli(MANIFEST, CatalogSettings)


if __name__ == "__main__":
    main()
