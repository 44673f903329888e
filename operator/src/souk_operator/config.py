"""The operator's settings, read from the environment (``SOUK_OPERATOR_*``) at start-up."""

from __future__ import annotations

import os
import socket
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class OperatorSettings(BaseSettings):
    """Typed settings; a malformed value stops the operator with one line naming it."""

    model_config = SettingsConfigDict(env_prefix="SOUK_OPERATOR_", extra="ignore")

    # Comma-separated namespaces to watch; empty watches the whole cluster.
    namespaces: str = ""
    # Seconds between periodic checks of each Marketplace (drift repair, password changes).
    check_interval: float = Field(30.0, gt=0)
    # Liveness endpoint (kopf's) and Prometheus metrics ports.
    health_port: int = 8080
    metrics_port: int = 9090
    # Leader election with a coordination.k8s.io Lease, so only one replica reconciles.
    leader_election: bool = True
    lease_name: str = "souk-operator"
    # Namespace of the Lease: the pod's namespace (POD_NAMESPACE, set by the chart).
    lease_namespace: str = Field(
        "default", validation_alias=AliasChoices("SOUK_OPERATOR_LEASE_NAMESPACE", "POD_NAMESPACE")
    )
    lease_duration: float = Field(15.0, gt=1)
    # Who this replica is in the Lease: the pod name in a cluster.
    identity: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}",
        validation_alias=AliasChoices("SOUK_OPERATOR_IDENTITY", "POD_NAME"),
    )
    # Attempts at dropping databases/streams on deletion before the finalizer gives up.
    delete_attempts: int = Field(5, ge=1)
    # Longest back-off between retries of a failing reconcile, in seconds.
    max_backoff: float = Field(60.0, gt=0)
    log_level: str = Field("INFO", validation_alias=AliasChoices("LOG_LEVEL"))
    log_format: Literal["json", "console"] = Field(
        "json", validation_alias=AliasChoices("LOG_FORMAT")
    )

    def namespace_list(self) -> list[str]:
        """Return the namespaces to watch (empty: cluster-wide)."""
        return [n.strip() for n in self.namespaces.split(",") if n.strip()]

    def backoff(self, retry: int) -> float:
        """Return the delay before retry number ``retry``: 2, 4, 8 ... capped."""
        return float(min(2.0 ** (retry + 1), self.max_backoff))
