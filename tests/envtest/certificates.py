"""Throw-away TLS material for one envtest API server: a CA, a serving cert, SA keys.

The same certificates as the real node's (:mod:`souk_devstack.cluster.pki`): one CA, a serving
certificate valid for 127.0.0.1, and the service-account signing key pair.
"""

from __future__ import annotations

from pathlib import Path

from souk_devstack.cluster.pki import NodePki


def write_certificates(directory: Path) -> dict[str, Path]:
    """Write a throw-away CA, a serving cert for 127.0.0.1 and the SA signing key pair."""
    pki = NodePki(directory)
    pki.ensure()
    return {
        "ca": pki.path("ca.crt"),
        "ca_key": pki.path("ca.key"),
        "serving_cert": pki.path("apiserver.crt"),
        "serving_key": pki.path("apiserver.key"),
        "sa_key": pki.path("sa.key"),
        "sa_pub": pki.path("sa.pub"),
    }
