"""The README's first command: `souk-dev up` starts, serves, seeds, and stops on Ctrl-C."""

import asyncio
import os
import signal
import socket
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx

from souk_common.service import discover_services
from souk_common.testing import PG_ADMIN_URL, REDIS_URL
from tests.support.stack import free_port_offset

SOUK_DEV = str(Path(sys.executable).parent / "souk-dev")


async def database_exists(name: str) -> bool:
    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        return bool(await connection.fetchval("SELECT 1 FROM pg_database WHERE datname=$1", name))
    finally:
        await connection.close()


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def test_up_serves_seeded_services_and_stops_cleanly_on_ctrl_c(tmp_path):
    marketplace = f"t{uuid.uuid4().hex[:10]}"
    offset = free_port_offset([m.port for m in discover_services().values()])
    env = {**os.environ, "SOUK_PG_ADMIN_URL": PG_ADMIN_URL, "REDIS_URL": REDIS_URL}
    env.pop("STREAM_PREFIX", None)
    args = ["--marketplace", marketplace, "--port-offset", str(offset)]
    process = await asyncio.create_subprocess_exec(
        SOUK_DEV,
        *args,
        "up",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output: list[str] = []
    try:

        async def read_until_running() -> None:
            assert process.stdout is not None
            async for raw in process.stdout:
                output.append(raw.decode(errors="replace"))
                if "Press Ctrl-C to stop." in output[-1]:
                    return
            raise AssertionError("souk-dev exited before it was running:\n" + "".join(output))

        await asyncio.wait_for(read_until_running(), 120)
        auth_port = 8001 + offset
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{auth_port}") as http:
            login = await http.post(
                "/api/auth/login",
                json={"email": "buyer@souk.test", "password": "souk-demo-password"},
            )
        assert login.status_code == 200, login.text
        assert await database_exists(f"{marketplace}_auth")

        process.send_signal(signal.SIGINT)
        remaining, _ = await asyncio.wait_for(process.communicate(), 30)
        output.append(remaining.decode(errors="replace"))
        assert process.returncode == 0, "".join(output)
        assert "Stopping" in "".join(output)
        for manifest in discover_services().values():
            assert not port_open(manifest.port + offset), f"{manifest.name} still listening"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        reset = await asyncio.create_subprocess_exec(
            SOUK_DEV, *args, "reset", cwd=tmp_path, env=env
        )
        assert await reset.wait() == 0
    assert not await database_exists(f"{marketplace}_auth")
