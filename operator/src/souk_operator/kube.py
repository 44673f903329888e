"""Kubernetes adapter: the few API calls the reconciler makes, off the event loop.

It wraps the official (synchronous) ``kubernetes`` client and runs each call in a worker
thread. Objects go in and come out as plain dicts in API form (camelCase), so the pure
manifest builders and the status functions never see client classes. API errors become
:class:`KubeError`; 5xx, 429 and connection errors are temporary.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from kubernetes import client as k8s
from urllib3.exceptions import HTTPError

from souk_operator import naming

T = TypeVar("T")


class KubeError(Exception):
    """A Kubernetes API call failed; ``temporary`` says whether a retry may help."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


def _decode(data: Mapping[str, str] | None) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in (data or {}).items()}


def _encode(data: Mapping[str, str]) -> dict[str, str]:
    return {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}


class Kube:
    """The reconciler's view of the Kubernetes API (one per operator, kept in kopf's memo)."""

    def __init__(self, api: k8s.ApiClient) -> None:
        """Wrap an API client authenticated as the operator's ServiceAccount."""
        self.api = api
        self.core = k8s.CoreV1Api(api)
        self.apps = k8s.AppsV1Api(api)
        self.custom = k8s.CustomObjectsApi(api)

    async def _call(self, what: str, function: Callable[..., T], *args: Any, **kw: Any) -> T:
        try:
            return await asyncio.to_thread(function, *args, **kw)
        except k8s.ApiException as error:
            temporary = error.status in (0, 409, 429) or (error.status or 0) >= 500
            raise KubeError(
                f"{what}: {error.status} {error.reason}", temporary=temporary
            ) from error
        except (HTTPError, OSError) as error:
            raise KubeError(f"{what}: {error}", temporary=True) from error

    async def _get_or_none(self, what: str, function: Callable[..., T], *args: Any) -> T | None:
        try:
            return await self._call(what, function, *args)
        except KubeError as error:
            if isinstance(error.__cause__, k8s.ApiException) and error.__cause__.status == 404:
                return None
            raise

    def _dict(self, obj: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.api.sanitize_for_serialization(obj)  # type: ignore[no-untyped-call]
        return result

    async def read_secret(self, namespace: str, name: str) -> dict[str, str] | None:
        """Return a Secret's decoded data, or None when the Secret does not exist."""
        read = self.core.read_namespaced_secret
        secret = await self._get_or_none(f"read Secret {name}", read, name, namespace)
        return None if secret is None else _decode(cast(Any, secret).data)

    async def apply_secret(self, namespace: str, manifest: Mapping[str, Any]) -> str | None:
        """Create or update a Secret from a manifest with plain ``data``; say what changed."""
        name = manifest["metadata"]["name"]
        body = {**manifest, "data": _encode(manifest["data"])}
        read = self.core.read_namespaced_secret
        existing = await self._get_or_none(f"read Secret {name}", read, name, namespace)
        if existing is None:
            create = self.core.create_namespaced_secret
            await self._call(f"create Secret {name}", create, namespace, body)
            return f"created Secret {name}"
        current = self._dict(existing)
        if current.get("data") == body["data"] and _meta_matches(current, manifest):
            return None
        patch = {"metadata": {k: manifest["metadata"][k] for k in ("labels", "ownerReferences")},
                 "data": body["data"]}  # fmt: skip
        update = self.core.patch_namespaced_secret
        await self._call(f"update Secret {name}", update, name, namespace, patch)
        return f"updated Secret {name}"

    async def list_names(self, namespace: str, kind: str, selector: str) -> list[str]:
        """Return the names of Secrets/StatefulSets/Services/PVCs matching a label selector."""
        lister = {
            "Secret": self.core.list_namespaced_secret,
            "Service": self.core.list_namespaced_service,
            "PersistentVolumeClaim": self.core.list_namespaced_persistent_volume_claim,
            "StatefulSet": self.apps.list_namespaced_stateful_set,
        }[kind]
        found: Any = await self._call(f"list {kind}", lister, namespace, label_selector=selector)
        return sorted(item.metadata.name for item in found.items)

    async def delete(self, namespace: str, kind: str, name: str) -> bool:
        """Delete one object; False when it was already gone."""
        deleter = {
            "Secret": self.core.delete_namespaced_secret,
            "Service": self.core.delete_namespaced_service,
            "PersistentVolumeClaim": self.core.delete_namespaced_persistent_volume_claim,
            "StatefulSet": self.apps.delete_namespaced_stateful_set,
        }[kind]
        return (
            await self._get_or_none(f"delete {kind} {name}", deleter, name, namespace) is not None
        )

    async def apply_object(self, namespace: str, manifest: Mapping[str, Any]) -> str | None:
        """Create a StatefulSet or Service, or patch its mutable parts when they drifted."""
        kind, name = manifest["kind"], manifest["metadata"]["name"]
        api = self.apps if kind == "StatefulSet" else self.core
        suffix = "stateful_set" if kind == "StatefulSet" else "service"
        read = getattr(api, f"read_namespaced_{suffix}")
        existing = await self._get_or_none(f"read {kind} {name}", read, name, namespace)
        if existing is None:
            create = getattr(api, f"create_namespaced_{suffix}")
            await self._call(f"create {kind} {name}", create, namespace, dict(manifest))
            return f"created {kind} {name}"
        if kind == "StatefulSet":
            patch = {"spec": {k: manifest["spec"][k] for k in ("replicas", "template")}}
        else:
            patch = {"spec": {k: manifest["spec"][k] for k in ("selector", "ports")}}
        patch["metadata"] = {k: manifest["metadata"][k] for k in ("labels", "ownerReferences")}
        update = getattr(api, f"patch_namespaced_{suffix}")
        before = self._dict(existing)
        after = self._dict(await self._call(f"patch {kind} {name}", update, name, namespace, patch))
        changed = before.get("metadata", {}).get("generation") != after["metadata"].get(
            "generation"
        )
        return f"updated {kind} {name}" if changed else None

    async def statefulset_ready(self, namespace: str, name: str) -> tuple[int, int]:
        """Return ``(ready replicas, wanted replicas)`` of a StatefulSet (0, 0 when missing)."""
        read = self.apps.read_namespaced_stateful_set
        found: Any = await self._get_or_none(f"read StatefulSet {name}", read, name, namespace)
        if found is None:
            return 0, 0
        return int(found.status.ready_replicas or 0), int(found.spec.replicas or 0)

    async def deployments(self, namespace: str, marketplace: str) -> dict[str, dict[str, Any]]:
        """Return ``{service: Deployment}`` for Deployments labelled with this marketplace."""
        lister = self.apps.list_namespaced_deployment
        selector = f"{naming.MARKETPLACE_LABEL}={marketplace},{naming.SERVICE_LABEL}"
        found: Any = await self._call(
            "list Deployments", lister, namespace, label_selector=selector
        )
        return {
            item.metadata.labels[naming.SERVICE_LABEL]: self._dict(item) for item in found.items
        }

    async def marketplace(self, namespace: str, name: str) -> dict[str, Any] | None:
        """Return a Marketplace object, or None when it is gone."""
        get: Any = self.custom.get_namespaced_custom_object
        args = (naming.GROUP, naming.VERSION, namespace, naming.PLURAL, name)
        found: dict[str, Any] | None = await self._get_or_none(
            f"read Marketplace {name}", get, *args
        )
        return found

    async def patch_status(self, namespace: str, name: str, status: Mapping[str, Any]) -> None:
        """Merge-patch a Marketplace's status subresource (conditions are replaced whole)."""
        patch = self.custom.patch_namespaced_custom_object_status
        args = (naming.GROUP, naming.VERSION, namespace, naming.PLURAL, name)
        await self._call(f"patch Marketplace {name} status", patch, *args, {"status": status})


def _meta_matches(current: Mapping[str, Any], manifest: Mapping[str, Any]) -> bool:
    """True when the labels and owner references we set are all in place."""
    meta = current.get("metadata") or {}
    labels = meta.get("labels") or {}
    wanted = manifest["metadata"]
    if any(labels.get(k) != v for k, v in wanted["labels"].items()):
        return False
    uids = {ref.get("uid") for ref in meta.get("ownerReferences") or []}
    return all(ref["uid"] in uids for ref in wanted["ownerReferences"])
