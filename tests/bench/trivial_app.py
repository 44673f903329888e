"""The trivial endpoint: ``GET /ping`` returning a small JSON, served like every service.

It is the HTTP limit the platform's endpoints are compared against: same FastAPI, same
uvicorn settings (:func:`souk_common.server.serve`: uvloop, httptools, no access log), no
middleware, no database. Run: ``python -m tests.bench.trivial_app --port 18080``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from fastapi import FastAPI

from souk_common.server import serve


def create_app() -> FastAPI:
    """Return the app with its single route."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok", "service": "bench"}

    return app


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the trivial app on ``--host``/``--port`` until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    serve(create_app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
