"""What the benchmark scripts share: a server in its own process, timing statistics, and a
record of the machine the figures came from."""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``script --serve URL --port N`` in its own process (client and server do not share a GIL)."""

    def __init__(self, script: str, database_url: str, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        self.process = subprocess.Popen(
            [sys.executable, script, "--serve", database_url, "--port", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {self.log.name}")
            time.sleep(0.2)

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@dataclass
class Stat:
    name: str
    samples_ms: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def as_json(self) -> dict[str, Any]:
        return {
            "n": len(self.samples_ms),
            "median_ms": round(self.median, 2),
            "p95_ms": round(self.p95, 2),
            "mean_ms": round(statistics.fmean(self.samples_ms), 2),
            "note": self.note,
        }


def environment() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
            ).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", False
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit + ("+uncommitted changes" if dirty else ""),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        # Other work on the machine skews the figures: compare runs only at a similar load.
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }


def sqlite_urls(prefix: str) -> Callable[[int], Iterator[str]]:
    """A fresh SQLite file per history size, removed afterwards."""

    def urls(size: int) -> Iterator[str]:
        with tempfile.TemporaryDirectory(prefix=f"{prefix}-{size}-") as directory:
            yield f"sqlite+aiosqlite:///{directory}/hub.sqlite3"

    return urls


def postgres_urls(server_url: str, prefix: str) -> Callable[[int], Iterator[str]]:
    """A new database on that server per history size, dropped afterwards."""
    import asyncpg

    plain = server_url.replace("postgresql+asyncpg://", "postgresql://").replace(
        "postgres://", "postgresql://"
    )
    base = plain.rpartition("/")[0]

    async def execute(statement: str) -> None:
        conn = await asyncpg.connect(f"{base}/postgres")
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    def urls(size: int) -> Iterator[str]:
        name = f"{prefix}_{size}_{uuid.uuid4().hex[:8]}"
        asyncio.run(execute(f'CREATE DATABASE "{name}"'))
        try:
            yield f"postgresql+asyncpg://{base.removeprefix('postgresql://')}/{name}"
        finally:
            asyncio.run(execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return urls
