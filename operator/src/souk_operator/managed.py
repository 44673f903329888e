"""Managed mode: the PostgreSQL and Redis StatefulSets and Services, as pure manifest builders.

Each server is a one-replica StatefulSet with a PVC template, probes, resource requests and a
restricted security context (non-root, no privilege escalation, all capabilities dropped,
RuntimeDefault seccomp), governed by a headless Service of the same name whose DNS name is
what the Secrets point at. Redis runs with AOF (``appendonly yes``, fsync every second).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from souk_operator import naming
from souk_operator.model import ManagedServer, MarketplaceSpec

POSTGRES_PORT = 5432
REDIS_PORT = 6379
_RUN_AS = 999  # the postgres and redis users of the official images


def _container_security() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": _RUN_AS,
        "runAsGroup": _RUN_AS,
    }


def _pod_security() -> dict[str, Any]:
    return {"fsGroup": _RUN_AS, "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}


def _probe(command: list[str], initial: int, period: int) -> dict[str, Any]:
    return {
        "exec": {"command": command},
        "initialDelaySeconds": initial,
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": 6,
    }


def _statefulset(
    name: str,
    labels: Mapping[str, str],
    owner: Mapping[str, Any],
    container: dict[str, Any],
    storage: str,
    mount: str,
) -> dict[str, Any]:
    match = {"app.kubernetes.io/instance": labels["app.kubernetes.io/instance"],
             "app.kubernetes.io/name": labels["app.kubernetes.io/name"]}  # fmt: skip
    container["volumeMounts"] = [{"name": "data", "mountPath": mount}]
    container["securityContext"] = _container_security()
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "labels": dict(labels), "ownerReferences": [dict(owner)]},
        "spec": {
            "serviceName": name,
            "replicas": 1,
            "selector": {"matchLabels": match},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "securityContext": _pod_security(),
                    "automountServiceAccountToken": False,
                    "containers": [container],
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data", "labels": dict(labels)},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": storage}},
                    },
                }
            ],
        },
    }


def _service(
    name: str, labels: Mapping[str, str], owner: Mapping[str, Any], port: int, port_name: str
) -> dict[str, Any]:
    match = {"app.kubernetes.io/instance": labels["app.kubernetes.io/instance"],
             "app.kubernetes.io/name": labels["app.kubernetes.io/name"]}  # fmt: skip
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": dict(labels), "ownerReferences": [dict(owner)]},
        "spec": {
            "clusterIP": "None",
            "selector": match,
            "ports": [{"name": port_name, "port": port, "targetPort": port_name}],
        },
    }


def postgres_objects(
    marketplace: str, name: str, server: ManagedServer, owner: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Return the StatefulSet and headless Service of one managed PostgreSQL server."""
    labels = naming.labels(marketplace, "postgres", name)
    ready = ["pg_isready", "-U", "postgres", "-h", "127.0.0.1"]
    container = {
        "name": "postgres",
        "image": server.image,
        "ports": [{"name": "postgres", "containerPort": POSTGRES_PORT}],
        "env": [
            {
                "name": "POSTGRES_PASSWORD",
                "valueFrom": {
                    "secretKeyRef": {
                        "name": naming.postgres_admin_secret_name(marketplace),
                        "key": "password",
                    }
                },
            },
            {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
        ],
        "readinessProbe": _probe(ready, 5, 5),
        "livenessProbe": _probe(ready, 30, 10),
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}},
    }
    return [
        _statefulset(name, labels, owner, container, server.storage, "/var/lib/postgresql/data"),
        _service(name, labels, owner, POSTGRES_PORT, "postgres"),
    ]


def redis_objects(
    marketplace: str, server: ManagedServer, owner: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Return the StatefulSet (AOF on) and headless Service of the managed Redis."""
    name = naming.redis_server_name(marketplace)
    labels = naming.labels(marketplace, "redis", name)
    ping = ["redis-cli", "ping"]
    container = {
        "name": "redis",
        "image": server.image,
        "args": ["--appendonly", "yes", "--appendfsync", "everysec", "--dir", "/data"],
        "ports": [{"name": "redis", "containerPort": REDIS_PORT}],
        "readinessProbe": _probe(ping, 5, 5),
        "livenessProbe": _probe(ping, 30, 10),
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
    }
    return [
        _statefulset(name, labels, owner, container, server.storage, "/data"),
        _service(name, labels, owner, REDIS_PORT, "redis"),
    ]


def postgres_servers(marketplace: str, spec: MarketplaceSpec) -> dict[str, str]:
    """Return ``{service: managed PostgreSQL server name}`` (Shared: one for all)."""
    managed = spec.postgres.managed
    per_service = managed is not None and managed.isolation == "PerService"
    return {
        s: naming.postgres_server_name(marketplace, s if per_service else None)
        for s in spec.service_names
    }


def managed_objects(
    marketplace: str, spec: MarketplaceSpec, owner: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Return every StatefulSet and Service the spec's Managed backends need."""
    objects: list[dict[str, Any]] = []
    if spec.postgres.mode == "Managed" and spec.postgres.managed is not None:
        for server in sorted(set(postgres_servers(marketplace, spec).values())):
            objects += postgres_objects(marketplace, server, spec.postgres.managed, owner)
    if spec.redis.mode == "Managed" and spec.redis.managed is not None:
        objects += redis_objects(marketplace, spec.redis.managed, owner)
    return objects
