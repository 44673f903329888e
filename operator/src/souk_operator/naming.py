"""Names, labels and owner references of everything the operator creates (pure functions).

Every object a Marketplace owns is named from the Marketplace's name by the functions here,
so the charts, the docs and the tests agree with the operator on one spelling.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GROUP = "souk.dev"
VERSION = "v1alpha1"
PLURAL = "marketplaces"
KIND = "Marketplace"
FINALIZER = "souk.dev/marketplace-cleanup"
MANAGED_BY = "souk-operator"
PART_OF = "souk"
# Selection labels: the operator finds its own objects, and each service's Deployment, by these.
MARKETPLACE_LABEL = "souk.dev/marketplace"
SERVICE_LABEL = "souk.dev/service"
COMPONENT_LABEL = "app.kubernetes.io/component"


def db_secret_name(marketplace: str, service: str) -> str:
    """Return the Secret holding a service's database credentials: ``shop-catalog-db``."""
    return f"{marketplace}-{service}-db"


def redis_secret_name(marketplace: str) -> str:
    """Return the Secret holding ``REDIS_URL`` and ``STREAM_PREFIX``: ``shop-redis``."""
    return f"{marketplace}-redis"


def auth_keys_secret_name(marketplace: str) -> str:
    """Return the Secret holding auth's signing key pair: ``shop-auth-keys``."""
    return f"{marketplace}-auth-keys"


def postgres_admin_secret_name(marketplace: str) -> str:
    """Return the Secret with the managed PostgreSQL superuser password (Managed mode)."""
    return f"{marketplace}-postgres-admin"


def postgres_server_name(marketplace: str, service: str | None = None) -> str:
    """Return the managed PostgreSQL StatefulSet/Service: shared, or one per service."""
    return f"{marketplace}-postgres" if service is None else f"{marketplace}-postgres-{service}"


def redis_server_name(marketplace: str) -> str:
    """Return the managed Redis StatefulSet/Service name."""
    return f"{marketplace}-redis-server"


def stream_prefix(marketplace: str) -> str:
    """Return the marketplace's stream key prefix (``shop:``), as DESIGN.md fixes it."""
    return f"{marketplace}:"


def service_host(name: str, namespace: str) -> str:
    """Return the in-cluster DNS name of a Service."""
    return f"{name}.{namespace}.svc"


def labels(
    marketplace: str, component: str, name: str, service: str | None = None
) -> dict[str, str]:
    """Return the standard ``app.kubernetes.io/*`` labels plus Souk's selection labels."""
    result = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": marketplace,
        COMPONENT_LABEL: component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        MARKETPLACE_LABEL: marketplace,
    }
    if service is not None:
        result[SERVICE_LABEL] = service
    return result


def selector(marketplace: str, component: str | None = None) -> str:
    """Return a label selector for a marketplace's objects (optionally one component)."""
    parts = [f"{MARKETPLACE_LABEL}={marketplace}"]
    if component is not None:
        parts.append(f"{COMPONENT_LABEL}={component}")
    return ",".join(parts)


def owner_reference(body: Mapping[str, Any]) -> dict[str, Any]:
    """Return an owner reference to the Marketplace ``body`` (controller, blocks deletion)."""
    metadata = body["metadata"]
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "name": metadata["name"],
        "uid": metadata["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
