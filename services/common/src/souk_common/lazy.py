"""Lazy re-exports for package ``__init__`` modules.

A package re-exports its public names without importing every submodule up front, so that a
light import (the operator importing ``souk_common.logging`` or ``souk_common.provisioning``)
does not load FastAPI, SQLAlchemy and the OpenTelemetry SDK.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """Return a module ``__getattr__`` importing ``exports[name]`` (a module) on first use."""

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module-level hook's required name
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__
