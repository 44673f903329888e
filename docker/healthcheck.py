"""Docker HEALTHCHECK for Souk images: exit 0 when the health URL answers 2xx, 1 otherwise.

Uses only the standard library (no curl in the slim image). A service is probed at
``/healthz`` on its port (``PORT``, default 8000). The operator is probed at ``/metrics`` on
9090, like its chart's probes: kopf's ``/healthz`` on 8080 answers only on the elected
leader, so probing it would call every standby replica unhealthy. ``SOUK_HEALTHCHECK_URL``
overrides both. Kubernetes ignores Docker health checks and uses the charts' probes; this one
serves ``docker run`` and compose users.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

OPERATOR_PACKAGE = "souk-operator"


def health_url(environ: dict[str, str]) -> str:
    """Return the URL to probe for the image described by ``environ``."""
    explicit = environ.get("SOUK_HEALTHCHECK_URL")
    if explicit:
        return explicit
    if environ.get("SOUK_PACKAGE") == OPERATOR_PACKAGE:
        return "http://127.0.0.1:9090/metrics"
    return f"http://127.0.0.1:{environ.get('PORT') or '8000'}/healthz"


def main() -> int:
    """Probe the health URL once; return the process exit code."""
    url = health_url(dict(os.environ))
    try:
        with urllib.request.urlopen(url, timeout=4) as response:  # noqa: S310 (fixed local URL)
            return 0 if 200 <= response.status < 300 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
