"""The API contract check: schemathesis against a live ``hubkeeper serve``, on SQLite and PostgreSQL.

For each backend it makes a fresh demo database, mints an API token for the demo admin and for a
demo tenant, starts ``hubkeeper serve`` on a free port, and runs schemathesis over
``/schema/openapi.json`` once per token. The run fails on any server error, any response whose
status, content type or body the OpenAPI document does not describe, and any request the
document says is valid that the API refuses as malformed (400). One worker, a fixed seed and a
bounded number of examples per operation keep it to a few minutes and make a failure repeatable.

    .venv/bin/python scripts/api_contract.py                      # SQLite only
    .venv/bin/python scripts/api_contract.py --postgresql postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "positive_data_acceptance",
)
# What a well-formed request may be answered with. 400 is left out on purpose: it means "this is
# not the shape the API accepts", which for a request the document calls valid is the document
# lying. 422 stays in: the request had the right shape but broke a rule of the hub's (a booking
# outside opening hours, an end before its start) that no JSON Schema can state.
ACCEPTED = ("2xx", "3xx", "401", "403", "404", "409", "422", "429")
# Who the contract is checked as: every operation answers each of them in some documented way.
CALLERS = {"admin": "admin@hub.test", "tenant": "tenant@hub.test"}
CONFIG = """\
[checks.positive_data_acceptance]
expected-statuses = [{accepted}]
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _hub_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        HUB_ENV="development",
        HUB_DATABASE_URL=database_url,
        # Invoices need the hub's address before they can be issued; the demo has one.
        HUB_SUPPLIER_ADDRESS="The Old Hospital; Pharos Street; Fleetwood; FY7 6BE",
    )
    return env


def _hubkeeper(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "hubkeeper"), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"hubkeeper {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@contextmanager
def _sqlite_database(workdir: Path) -> Iterator[tuple[str, list[str]]]:
    path = workdir / "contract.sqlite3"
    yield f"sqlite:///{path}", ["--database", str(path)]


@contextmanager
def _postgresql_database(server_url: str) -> Iterator[tuple[str, list[str]]]:
    import asyncpg

    name = f"hub_contract_{uuid.uuid4().hex[:12]}"
    base = server_url.rsplit("/", 1)[0]

    async def execute(statement: str) -> None:
        conn = await asyncpg.connect(f"{base}/postgres")
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    url = f"{base}/{name}"
    try:
        yield url, ["--database-url", url]
    finally:
        asyncio.run(execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def _server(env: dict[str, str], log: Path) -> Iterator[str]:
    port = _free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(BIN / "hubkeeper"), "serve", "--port", str(port), "--no-migrate"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"hubkeeper serve did not start; see {log}")
                time.sleep(0.3)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _schemathesis(base: str, token: str, config: Path, report: Path, max_examples: int, seed: int) -> int:
    command = [
        str(BIN / "schemathesis"),
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{base}/schema/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "1",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    # schemathesis keeps its own files (.schemathesis/) in the directory it runs in.
    return subprocess.run(command, cwd=report.parent, check=False).returncode


def check_backend(backend: str, server_url: str | None, workdir: Path, max_examples: int, seed: int) -> bool:
    """One backend: a fresh demo hub, a live server, schemathesis as each caller. True if clean."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "schemathesis.toml"
    config.write_text(CONFIG.format(accepted=", ".join(f'"{s}"' for s in ACCEPTED)))
    database = _postgresql_database(server_url) if server_url else _sqlite_database(workdir)
    clean = True
    with database as (url, demo_args):
        env = _hub_env(url)
        _hubkeeper(env, "demo", "--no-serve", *demo_args)
        tokens = {
            who: _hubkeeper(env, "tokens", "create", "--email", email, "--name", "api contract").strip()
            for who, email in CALLERS.items()
        }
        with _server(env, workdir / "server.log") as base:
            for who, token in tokens.items():
                print(f"\n==> schemathesis on {backend} as {who} ({base})", flush=True)
                started = time.monotonic()
                code = _schemathesis(base, token, config, workdir / f"{who}.ndjson", max_examples, seed)
                took = time.monotonic() - started
                print(f"==> {backend} as {who}: exit {code} in {took:.0f} s", flush=True)
                clean = clean and code == 0
    return clean


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--postgresql", metavar="URL", help="a server URL (maintenance database)")
    parser.add_argument("--max-examples", type=int, default=5, help="per operation and phase")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "ci" / "api-contract")
    args = parser.parse_args()
    if args.workdir.exists():
        shutil.rmtree(args.workdir)
    results: dict[str, bool] = {}
    if args.sqlite:
        results["sqlite"] = check_backend(
            "sqlite", None, args.workdir / "sqlite", args.max_examples, args.seed
        )
    if args.postgresql:
        results["postgresql"] = check_backend(
            "postgresql", args.postgresql, args.workdir / "postgresql", args.max_examples, args.seed
        )
    for backend, clean in results.items():
        print(f"API contract on {backend}: {'clean' if clean else 'FAILED'}")
    return 0 if results and all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
