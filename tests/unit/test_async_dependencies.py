"""Every route and dependency of every service is ``async``.

FastAPI runs a plain ``def`` endpoint or dependency in a worker thread, on every request: a
thread hop and a GIL hand-over for what is usually an attribute lookup. That cost showed in
the catalog's profile (``run_in_threadpool``), so the apps are checked here, whole.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from souk_common.testing import service_test_settings

SERVICES = {
    "auth": ("souk_auth.main", "souk_auth.config", "AuthSettings"),
    "catalog": ("souk_catalog.main", "souk_catalog.config", "CatalogSettings"),
    "orders": ("souk_orders.main", "souk_orders.config", "OrdersSettings"),
    "payments": ("souk_payments.main", "souk_payments.config", "PaymentsSettings"),
    "notifications": (
        "souk_notifications.main",
        "souk_notifications.config",
        "NotificationsSettings",
    ),
}
UNREACHABLE_DB = "postgresql+asyncpg://nobody@127.0.0.1:9/none"


def build_app(service: str) -> FastAPI:
    """Return ``service``'s app (not started: nothing connects)."""
    main, config, settings_class = SERVICES[service]
    settings = service_test_settings(
        getattr(importlib.import_module(config), settings_class), UNREACHABLE_DB, "unit:"
    )
    app: FastAPI = importlib.import_module(main).create_app(settings)
    return app


def is_async(call: Callable[..., Any]) -> bool:
    """Return whether FastAPI awaits ``call`` on the event loop (no worker thread)."""
    target = call if inspect.isroutine(call) else getattr(call, "__call__", None)  # noqa: B004
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


def sync_calls(dependant: Dependant, path: str) -> list[str]:
    """Return ``path: name`` of every plain-``def`` callable in ``dependant``'s tree."""
    found = []
    if dependant.call is not None and not is_async(dependant.call):
        found.append(f"{path}: {getattr(dependant.call, '__qualname__', dependant.call)}")
    for sub in dependant.dependencies:
        found += sync_calls(sub, path)
    return found


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_no_route_or_dependency_runs_in_a_thread(service: str) -> None:
    app = build_app(service)
    # Included routers are wrapped; iter_route_contexts yields each route with its full path.
    routes = [
        (context.path, context.route)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.route, APIRoute)
    ]
    assert len(routes) > 3, [path for path, _ in routes]
    offenders = [
        call
        for path, route in routes
        for call in sync_calls(route.dependant, f"{sorted(route.methods)} {path}")
    ]
    assert not offenders, offenders


def test_the_check_sees_a_plain_def() -> None:
    app = FastAPI()

    def plain() -> int:
        return 1

    app.get("/plain")(plain)
    route = next(r for r in app.routes if isinstance(r, APIRoute))
    found = sync_calls(route.dependant, "GET /plain")
    assert found == ["GET /plain: test_the_check_sees_a_plain_def.<locals>.plain"]
