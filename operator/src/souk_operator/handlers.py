"""kopf handlers: thin entry points that call one use case of :mod:`souk_operator.reconcile`.

Create, update and resume (operator restart) reconcile; a timer re-runs the same reconcile
periodically (drift: a Secret or consumer group deleted by hand, a changed admin password,
a backend that came back); Deployment events refresh ServicesReady; deletion applies the
deletion policy behind a finalizer with bounded retries. Temporary failures raise
:class:`kopf.TemporaryError` (retried with back-off), permanent ones :class:`kopf.PermanentError`.

Nothing is registered at import time: :func:`registry` binds the handlers to a kopf registry
once the settings are built (in :func:`souk_operator.main.main`), and the handlers read those
settings from kopf's ``memo``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from typing import Any

import kopf
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from souk_common.logging import get_logger
from souk_common.provisioning import ProvisioningError
from souk_operator import naming
from souk_operator.backends import Backends
from souk_operator.config import OperatorSettings
from souk_operator.kube import Kube, KubeError
from souk_operator.metrics import RECONCILE_DURATION, RECONCILE_TOTAL
from souk_operator.reconcile import Outcome, clean_up, reconcile, refresh_services

log = get_logger(__name__)
RESOURCE = (naming.GROUP, naming.VERSION, naming.PLURAL)


class KopfEvents:
    """Posts Kubernetes Events on one Marketplace through kopf's event queue.

    ``kopf.event`` is used rather than ``kopf.info``: the latter obeys ``posting.level``, which
    is raised to WARNING so that kopf's own per-handler log lines do not become Events.
    """

    def __init__(self, body: kopf.Body) -> None:
        """Record events on ``body``."""
        self.body = body

    def normal(self, reason: str, message: str) -> None:
        """Post a Normal event."""
        kopf.event(self.body, type="Normal", reason=reason, message=message[:1000])

    def warning(self, reason: str, message: str) -> None:
        """Post a Warning event."""
        kopf.event(self.body, type="Warning", reason=reason, message=message[:1000])


async def startup(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    """Configure kopf and keep the adapters in ``memo`` for every handler."""
    settings.persistence.finalizer = naming.FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="souk.dev")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix="souk.dev")
    settings.posting.level = logging.WARNING  # our own Events say what happened
    settings.scanning.disabled = True  # no CRD/namespace watching: fewer permissions
    settings.watching.server_timeout = 300
    configuration = k8s.Configuration()
    try:
        k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except k8s_config.ConfigException:
        k8s_config.load_kube_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    memo.api = k8s.ApiClient(configuration)
    memo.kube = Kube(memo.api)
    memo.backends = Backends()
    memo.locks = collections.defaultdict(asyncio.Lock)


async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    """Close the Kubernetes client."""
    memo.api.close()


async def _reconcile(body: kopf.Body, memo: kopf.Memo) -> Outcome:
    """Run and measure one reconcile, one at a time per Marketplace, on its latest version.

    The timer and the change handlers may fire together; without the lock and the re-read, a
    run holding an older spec could re-create what a newer run just removed.
    """
    async with memo.locks[body.meta.uid]:
        started = time.monotonic()
        latest = await memo.kube.marketplace(body.meta.namespace, body.meta.name)
        if latest is None or latest["metadata"].get("deletionTimestamp"):
            return Outcome("Deleted", (), ())
        return await _measured(latest, body, memo, started)


async def _measured(
    latest: dict[str, Any], body: kopf.Body, memo: kopf.Memo, started: float
) -> Outcome:
    try:
        outcome = await reconcile(latest, memo.kube, memo.backends, KopfEvents(body))
    except Exception:
        RECONCILE_TOTAL.labels(outcome="error").inc()
        raise
    finally:
        RECONCILE_DURATION.observe(time.monotonic() - started)
    RECONCILE_TOTAL.labels(outcome=outcome.phase.lower()).inc()
    log.info("reconciled", marketplace=body.meta.name, namespace=body.meta.namespace,
             phase=outcome.phase, actions=len(outcome.actions))  # fmt: skip
    return outcome


async def reconcile_marketplace(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
    """Converge a Marketplace; retry temporary failures with back-off."""
    outcome = await _reconcile(body, memo)
    worst = outcome.worst()
    if worst is None:
        return
    if worst.state == "temporary":
        delay = memo.settings.backoff(retry)
        raise kopf.TemporaryError(f"{worst.reason}: {worst.message}", delay=delay)
    raise kopf.PermanentError(f"{worst.reason}: {worst.message}")


async def periodic_check(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Reconcile again: repairs drift and recovers once a failing backend is back."""
    await _reconcile(body, memo)


async def deployment_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Refresh ServicesReady of the Marketplace a service's Deployment belongs to."""
    marketplace = body.metadata.labels[naming.MARKETPLACE_LABEL]
    try:
        await refresh_services(memo.kube, str(body.metadata.namespace), marketplace)
    except KubeError as error:
        log.warning("services_refresh_failed", marketplace=marketplace, error=str(error))


async def delete_marketplace(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
    """Apply the deletion policy; after ``delete_attempts`` failures, let go with an Event."""
    events = KopfEvents(body)
    try:
        await clean_up(body, memo.kube, memo.backends, events)
    except (ProvisioningError, KubeError) as error:
        if retry + 1 >= memo.settings.delete_attempts:
            events.warning(
                "CleanupAbandoned",
                f"gave up after {retry + 1} attempts ({error}); the finalizer is removed and"
                f" databases/streams of {body.meta.name} may remain: drop them by hand",
            )
            return
        raise kopf.TemporaryError(str(error), delay=memo.settings.backoff(retry)) from error


def registry(settings: OperatorSettings) -> kopf.OperatorRegistry:
    """Return a kopf registry holding every handler, the timer set to ``check_interval``."""
    found = kopf.OperatorRegistry()
    # kopf puts its login handler on its default registry only: this one needs it too.
    kopf.on.login(registry=found)(kopf.login_via_client)
    kopf.on.startup(registry=found)(startup)
    kopf.on.cleanup(registry=found)(cleanup)
    for on in (kopf.on.resume, kopf.on.create, kopf.on.update):
        on(*RESOURCE, registry=found)(reconcile_marketplace)
    interval = settings.check_interval
    kopf.timer(*RESOURCE, interval=interval, initial_delay=interval, registry=found)(periodic_check)
    kopf.on.event(
        "apps", "v1", "deployments", labels={naming.MARKETPLACE_LABEL: kopf.PRESENT},
        registry=found,
    )(deployment_changed)  # fmt: skip
    kopf.on.delete(*RESOURCE, registry=found)(delete_marketplace)
    return found
