"""Where the journeys run: the local stack (default) or a deployed shop behind an Ingress.

``SOUK_E2E_BASE_URL`` unset: an isolated local stack with every installed service is started
once for the session (its own databases, stream prefix and ports) and dropped afterwards.
``SOUK_E2E_BASE_URL=http://localhost:8080``: the journeys call that one base URL, which routes
``/api/<service>`` to each service (the kind suite sets it after installing the charts).
``SOUK_E2E_ENDPOINTS=.souk/cluster/endpoints.json``: a JSON object of one base URL per service
(``make cluster-up`` writes it for the shop running on the local real node).
"""

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from souk_common.service import discover_services
from tests.support.shop import ShopClient
from tests.support.stack import isolated_stack

BASE_URL = os.environ.get("SOUK_E2E_BASE_URL")
ENDPOINTS = os.environ.get("SOUK_E2E_ENDPOINTS")


def _read_endpoints(path: Path) -> dict[str, str]:
    """Read the ``{service: base URL}`` file that ``make cluster-up`` writes."""
    if not path.is_file():
        pytest.fail(f"SOUK_E2E_ENDPOINTS={path} does not exist (run make cluster-up)")
    endpoints: dict[str, str] = json.loads(path.read_text())
    return endpoints


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def base_urls(tmp_path_factory) -> AsyncIterator[dict[str, str]]:
    services = list(discover_services())
    missing = {"auth", "catalog", "orders", "payments", "notifications"} - set(services)
    if missing:
        pytest.skip(f"journeys need every service; not installed: {', '.join(sorted(missing))}")
    if ENDPOINTS:
        yield _read_endpoints(Path(ENDPOINTS))
        return
    if BASE_URL:
        yield dict.fromkeys(services, BASE_URL)
        return
    async with isolated_stack(tmp_path_factory.mktemp("journeys")) as stack:
        yield {name: stack.service_url(name) for name in services}


@pytest_asyncio.fixture(loop_scope="session")
async def shop(base_urls) -> AsyncIterator[ShopClient]:
    async with httpx.AsyncClient(timeout=15) as http:
        yield ShopClient(base_urls, http)
