"""Small helpers for the operator envtests: reading a Marketplace, its conditions, PG, Redis."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import asyncpg
from kubernetes import client as k8s
from redis.asyncio import Redis

from souk_common.provisioning import scram_sha256_matches
from souk_common.testing import PG_ADMIN_URL, REDIS_URL

GROUP, VERSION, PLURAL = "souk.dev", "v1alpha1", "marketplaces"


def get_mkt(api: k8s.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    return k8s.CustomObjectsApi(api).get_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name
    )


def conditions(api: k8s.ApiClient, namespace: str, name: str) -> dict[str, dict[str, Any]]:
    status = get_mkt(api, namespace, name).get("status") or {}
    return {c["type"]: c for c in status.get("conditions") or []}


def infra_ready(api: k8s.ApiClient, namespace: str, name: str) -> bool:
    found = conditions(api, namespace, name)
    return all(found.get(k, {}).get("status") == "True" for k in ("DatabasesReady", "StreamsReady"))


def secret_data(api: k8s.ApiClient, namespace: str, name: str) -> dict[str, str]:
    secret = k8s.CoreV1Api(api).read_namespaced_secret(name, namespace)
    return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}


def login_works(database_url: str) -> bool:
    """Log in with the URL, and check the role's stored SCRAM verifier matches its password.

    Local PostgreSQL trusts loopback connections, so the verifier check is what proves the
    password in the Secret is the role's password.
    """

    async def check() -> bool:
        connection = await asyncpg.connect(database_url)
        user = await connection.fetchval("SELECT current_user")
        password = connection._params.password
        await connection.close()
        admin = await asyncpg.connect(PG_ADMIN_URL)
        stored = await admin.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname=$1", user)
        await admin.close()
        return scram_sha256_matches(stored, password)

    return asyncio.run(check())


def databases(prefix: str) -> set[str]:
    async def fetch() -> set[str]:
        admin = await asyncpg.connect(PG_ADMIN_URL)
        rows = await admin.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", f"{prefix}_%"
        )
        roles = await admin.fetch(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE $1", f"{prefix}_%"
        )
        await admin.close()
        return {r["datname"] for r in rows} & {r["rolname"] for r in roles}

    return asyncio.run(fetch())


def groups(prefix: str) -> set[tuple[str, str]]:
    async def fetch() -> set[tuple[str, str]]:
        redis = Redis.from_url(REDIS_URL, decode_responses=True)
        found = set()
        async for key in redis.scan_iter(match=f"{prefix}:*"):
            if await redis.type(key) == "stream":
                for group in await redis.xinfo_groups(key):
                    found.add((key, group["name"]))
        await redis.aclose()
        return found

    return asyncio.run(fetch())


def streams(prefix: str) -> set[str]:
    async def fetch() -> set[str]:
        redis = Redis.from_url(REDIS_URL, decode_responses=True)
        keys = {key async for key in redis.scan_iter(match=f"{prefix}:*")}
        await redis.aclose()
        return keys

    return asyncio.run(fetch())


def redis_call(*args: str) -> Any:
    async def run() -> Any:
        redis = Redis.from_url(REDIS_URL, decode_responses=True)
        result = await redis.execute_command(*args)
        await redis.aclose()
        return result

    return asyncio.run(run())


def ready_deployment(api: k8s.ApiClient, namespace: str, marketplace: str, service: str) -> None:
    """Create a service's Deployment and mark it ready through the status subresource.

    No kubelet runs on the envtest API server, so no pod ever becomes ready by itself.
    """
    apps = k8s.AppsV1Api(api)
    labels = {"souk.dev/marketplace": marketplace, "souk.dev/service": service,
              "app.kubernetes.io/name": service}  # fmt: skip
    body = {
        "metadata": {"name": f"{marketplace}-{service}", "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": service, "image": f"souk/{service}:dev"}]},
            },
        },
    }
    created = apps.create_namespaced_deployment(namespace, body)
    apps.patch_namespaced_deployment_status(
        created.metadata.name,
        namespace,
        {"status": {"observedGeneration": created.metadata.generation, "replicas": 1,
                    "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 1}},
    )  # fmt: skip
