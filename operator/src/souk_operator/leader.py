"""Leader election with a ``coordination.k8s.io/v1`` Lease, for more than one replica.

kopf's own peering pauses operators of *lower* priority, but replicas of one Deployment share
a priority, so it would let them all run. Instead, before kopf starts, each replica waits to
hold the Lease (:func:`decide` is the rule), renews it every third of its duration, and stops
the operator if it loses it (another replica took it after a missed renewal), so at most one
replica reconciles. The Lease is released on a clean stop, so a rolling update hands over at
once instead of after the Lease expires. Writes use the Lease's ``resourceVersion``, so two
replicas cannot both win a race.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Literal

from kubernetes import client as k8s

from souk_common.logging import get_logger

log = get_logger(__name__)
Decision = Literal["acquire", "renew", "wait"]


def decide(
    holder: str | None,
    renewed: dt.datetime | None,
    duration: float,
    identity: str,
    now: dt.datetime,
) -> Decision:
    """Return what a replica does with a Lease: renew its own, take a free/expired one, or wait."""
    if holder == identity:
        return "renew"
    if not holder or renewed is None or (now - renewed).total_seconds() > duration:
        return "acquire"
    return "wait"


class LeaseElector:
    """Holds one Lease for this replica; :meth:`acquire` blocks until it does."""

    def __init__(
        self, api: k8s.ApiClient, namespace: str, name: str, identity: str, duration: float
    ) -> None:
        """Prepare an elector for Lease ``namespace/name`` as ``identity``."""
        self.api = k8s.CoordinationV1Api(api)
        self.namespace, self.name, self.identity, self.duration = (
            namespace,
            name,
            identity,
            duration,
        )

    async def _try(self) -> bool:
        """Make one attempt to take or renew the Lease; True when this replica holds it."""
        now = dt.datetime.now(dt.UTC)
        try:
            lease = await asyncio.to_thread(
                self.api.read_namespaced_lease, self.name, self.namespace
            )
        except k8s.ApiException as error:
            if error.status != 404:
                raise
            body = k8s.V1Lease(
                metadata=k8s.V1ObjectMeta(name=self.name),
                spec=self._spec(now, now, 0),
            )
            try:
                await asyncio.to_thread(self.api.create_namespaced_lease, self.namespace, body)
            except k8s.ApiException as conflict:
                if conflict.status == 409:
                    return False
                raise
            return True
        spec = lease.spec or k8s.V1LeaseSpec()
        seconds = float(spec.lease_duration_seconds or self.duration)
        decision = decide(spec.holder_identity, spec.renew_time, seconds, self.identity, now)
        if decision == "wait":
            return False
        transitions = int(spec.lease_transitions or 0) + (decision == "acquire")
        acquired = now if decision == "acquire" else spec.acquire_time or now
        lease.spec = self._spec(acquired, now, transitions)
        try:
            await asyncio.to_thread(
                self.api.replace_namespaced_lease, self.name, self.namespace, lease
            )
        except k8s.ApiException as error:
            if error.status == 409:  # someone else wrote first
                return False
            raise
        return True

    def _spec(
        self, acquired: dt.datetime, renewed: dt.datetime, transitions: int
    ) -> k8s.V1LeaseSpec:
        return k8s.V1LeaseSpec(
            holder_identity=self.identity,
            lease_duration_seconds=int(self.duration),
            acquire_time=acquired,
            renew_time=renewed,
            lease_transitions=transitions,
        )

    async def acquire(self) -> None:
        """Wait until this replica holds the Lease."""
        waiting_logged = False
        while not await self._safe_try():
            if not waiting_logged:
                log.info("leader_election_waiting", lease=f"{self.namespace}/{self.name}")
                waiting_logged = True
            await asyncio.sleep(self.duration / 5)
        log.info(
            "leader_election_won", lease=f"{self.namespace}/{self.name}", identity=self.identity
        )

    async def _safe_try(self) -> bool:
        try:
            return await self._try()
        except (k8s.ApiException, OSError) as error:
            log.warning("leader_election_error", error=str(error))
            return False

    async def hold(self, stop: asyncio.Event) -> None:
        """Renew the Lease until ``stop`` is set or it is lost; set ``stop`` when lost."""
        deadline = asyncio.get_running_loop().time() + self.duration
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.duration / 3)
                return
            except TimeoutError:
                pass
            if await self._safe_try():
                deadline = asyncio.get_running_loop().time() + self.duration
            elif asyncio.get_running_loop().time() > deadline - self.duration / 3:
                log.error("leader_election_lost", lease=f"{self.namespace}/{self.name}")
                stop.set()

    async def release(self) -> None:
        """Give the Lease up (if still held) so another replica takes over at once."""
        try:
            lease = await asyncio.to_thread(
                self.api.read_namespaced_lease, self.name, self.namespace
            )
            if lease.spec and lease.spec.holder_identity == self.identity:
                lease.spec.holder_identity = None
                lease.spec.renew_time = None
                await asyncio.to_thread(
                    self.api.replace_namespaced_lease, self.name, self.namespace, lease
                )
        except (k8s.ApiException, OSError) as error:
            log.warning("leader_election_release_failed", error=str(error))
