"""How every Souk service is served: one place for uvicorn's settings.

The services (``python -m souk_<service> serve``) and the benchmark harness's trivial endpoint
both start uvicorn through :func:`serve`, so a figure measured against the trivial endpoint is
a fair limit for the services.
"""

from __future__ import annotations

from typing import Any

import uvicorn

# uvloop's event loop and httptools' parser (both from uvicorn[standard]); no access log (the
# HTTP metrics and traces carry that), uvicorn's own logging off (structlog is configured).
SERVER_OPTIONS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "log_config": None,
    "access_log": False,
    "server_header": False,  # no ``server: uvicorn`` telling a scanner what to try
    "timeout_graceful_shutdown": 10,
    "backlog": 2048,
}


def serve(app: Any, *, host: str, port: int, factory: bool = False) -> None:
    """Run ``app`` (an ASGI app, or an import string / callable factory) until stopped."""
    uvicorn.run(app, factory=factory, host=host, port=port, **SERVER_OPTIONS)
