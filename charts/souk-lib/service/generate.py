"""Generate each service chart's ``values.yaml`` and ``values.schema.json`` from one source.

The five service charts share every value but a few settings of their own, so their values
files are generated: the common part lives next to this script (``values.yaml`` with the
placeholders ``__SERVICE__``, ``__MODULE__``, ``__MEMORY_REQUEST__``, ``__MEMORY_LIMIT__``, and
``values.schema.json``), each service's own settings in :data:`SERVICES` below. Run

    uv run python charts/souk-lib/service/generate.py          # write the charts' files
    uv run python charts/souk-lib/service/generate.py --check  # exit 1 when one is stale

Every schema entry needs a ``description``; after a change also run ``charts/readme.py``,
which regenerates the charts' README tables. ``tests/charts/test_service_charts.py`` runs the
check, so a hand edit of a generated file (or a forgotten run) fails the tests. The settings'
environment names come from each service's ``config.py``
(``services/<service>/src/souk_<service>/config.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CHARTS = HERE.parents[1]


@dataclass(frozen=True)
class ServiceValues:
    """What one service chart adds to the common values: its settings and their schema."""

    memory_request: str = "128Mi"
    memory_limit: str = "384Mi"
    # YAML appended to the common values (comments included).
    extra_values: str = ""
    # JSON schema of the extra top-level keys.
    extra_schema: dict[str, Any] = field(default_factory=dict)


_SEED_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "description": "The demo data Job of this service.",
    "properties": {
        "enabled": {
            "type": "boolean",
            "description": "Load the demo data with a Job after each install or upgrade "
            "(global.seed.enabled does it for every service with demo data).",
        },
        "backoffLimit": {
            "type": "integer",
            "minimum": 0,
            "description": "Retries of the seed Job before it fails (it waits for the service).",
        },
    },
}

SERVICES: dict[str, ServiceValues] = {
    "auth": ServiceValues(
        # Argon2id hashes hold 64 MiB each, up to PASSWORD_HASH_CONCURRENCY (4) at once.
        memory_request="256Mi",
        memory_limit="640Mi",
        extra_values="""
# --- auth's own settings -----------------------------------------------------------------
# The signing keys come from Secret <marketplace>-auth-keys (created by the operator), mounted
# read-only; AUTH_SIGNING_KEY_FILE points at its private.pem.

seed:
  # Create the demo users (buyer@, seller@, admin@souk.test) with a Job after each install or
  # upgrade; global.seed.enabled does it for every service with demo data.
  enabled: false
  backoffLimit: 12

# Reverse proxies in front of auth (the Ingress controller counts as one): login throttling
# takes the client address this many hops from the right of X-Forwarded-For
# (TRUSTED_PROXY_HOPS). 0 ignores the header.
trustedProxyHops: 1

# Mark the token cookies Secure, sent over HTTPS only (COOKIE_SECURE). false only for a
# plain-HTTP demo.
cookieSecure: true

# Lifetime of an access token (JWT) in seconds (ACCESS_TOKEN_TTL_SECONDS): short, since it
# cannot be revoked.
accessTokenTtlSeconds: 900

# Lifetime of a refresh token in seconds (REFRESH_TOKEN_TTL_SECONDS); each use rotates it.
refreshTokenTtlSeconds: 1209600
""",
        extra_schema={
            "seed": _SEED_SCHEMA,
            "trustedProxyHops": {
                "type": "integer",
                "minimum": 0,
                "maximum": 10,
                "description": "Reverse proxies in front of auth (TRUSTED_PROXY_HOPS): login "
                "throttling takes the client address this many hops from the right of "
                "X-Forwarded-For; 0 ignores the header.",
            },
            "cookieSecure": {
                "type": "boolean",
                "description": "Mark the token cookies Secure, sent over HTTPS only "
                "(COOKIE_SECURE); false only for a plain-HTTP demo.",
            },
            "accessTokenTtlSeconds": {
                "type": "integer",
                "minimum": 1,
                "maximum": 86400,
                "description": "Lifetime of an access token (JWT) in seconds "
                "(ACCESS_TOKEN_TTL_SECONDS): short, since it cannot be revoked.",
            },
            "refreshTokenTtlSeconds": {
                "type": "integer",
                "minimum": 60,
                "description": "Lifetime of a refresh token in seconds "
                "(REFRESH_TOKEN_TTL_SECONDS); each use rotates it.",
            },
        },
    ),
    "catalog": ServiceValues(
        extra_values="""
# --- catalog's own settings --------------------------------------------------------------

seed:
  # Create the demo catalog (owned by seller@souk.test, found through auth's API) with a Job
  # after each install or upgrade; global.seed.enabled does it for every service with demo data.
  enabled: false
  backoffLimit: 12

# A reservation leaving a product at or below this many units emits product.low_stock
# (LOW_STOCK_THRESHOLD).
lowStockThreshold: 5

# Public listing pages are kept in memory this long (LISTING_CACHE_SECONDS; 0 turns the cache
# off): stock changed by orders shows in listings after at most this; product writes through
# the same replica empty it at once. At most `entries` pages (LISTING_CACHE_ENTRIES).
listingCache:
  seconds: 1
  entries: 1024
""",
        extra_schema={
            "seed": _SEED_SCHEMA,
            "lowStockThreshold": {
                "type": "integer",
                "minimum": 0,
                "description": "A reservation leaving a product at or below this many units "
                "emits product.low_stock (LOW_STOCK_THRESHOLD).",
            },
            "listingCache": {
                "type": "object",
                "additionalProperties": False,
                "description": "The in-memory cache of public listing pages.",
                "properties": {
                    "seconds": {
                        "type": "number",
                        "minimum": 0,
                        "maximum": 300,
                        "description": "How long a listing page is kept "
                        "(LISTING_CACHE_SECONDS; 0 turns the cache off).",
                    },
                    "entries": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 100000,
                        "description": "Most pages kept (LISTING_CACHE_ENTRIES).",
                    },
                },
            },
        },
    ),
    "orders": ServiceValues(
        extra_values="""
# --- orders' own settings ----------------------------------------------------------------

# An order still PENDING or RESERVED this many seconds after it was placed is cancelled, its
# stock released and any capture refunded (ORDER_DEADLINE_SECONDS).
orderDeadlineSeconds: 900
""",
        extra_schema={
            "orderDeadlineSeconds": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "An order still PENDING or RESERVED this many seconds after it "
                "was placed is cancelled, its stock released and any capture refunded "
                "(ORDER_DEADLINE_SECONDS).",
            },
        },
    ),
    "payments": ServiceValues(),
    "notifications": ServiceValues(),
}


def _read(name: str) -> str:
    return (HERE / name).read_text()


def render_values(service: str) -> str:
    """Return the ``values.yaml`` text of ``service``'s chart."""
    spec = SERVICES[service]
    text = (
        _read("values.yaml")
        .replace("__SERVICE__", service)
        .replace("__MODULE__", "souk_" + service.replace("-", "_"))
        .replace("__MEMORY_REQUEST__", spec.memory_request)
        .replace("__MEMORY_LIMIT__", spec.memory_limit)
    )
    return text + spec.extra_values


def render_schema(service: str) -> str:
    """Return the ``values.schema.json`` text of ``service``'s chart."""
    schema: dict[str, Any] = json.loads(_read("values.schema.json"))
    schema = {
        "$comment": "GENERATED by charts/souk-lib/service/generate.py; do not edit.",
        **schema,
        "title": f"Values of the souk-{service} chart",
    }
    schema["properties"] = {**schema["properties"], **SERVICES[service].extra_schema}
    return json.dumps(schema, indent=2) + "\n"


def outputs() -> dict[Path, str]:
    """Return every generated file with its expected content."""
    files: dict[Path, str] = {}
    for service in SERVICES:
        chart = CHARTS / f"souk-{service}"
        files[chart / "values.yaml"] = render_values(service)
        files[chart / "values.schema.json"] = render_schema(service)
    return files


def stale_files() -> list[Path]:
    """Return the generated files whose content differs from what this script writes."""
    return [
        path for path, text in outputs().items() if not path.exists() or path.read_text() != text
    ]


def main(argv: list[str] | None = None) -> int:
    """Write the files, or with ``--check`` report stale ones and return 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path.relative_to(CHARTS.parent)} (run {Path(__file__).name})")
        return 1 if stale else 0
    for path, text in outputs().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
