"""What a Stripe that never answers costs everyone else: other people's writes while "Pay now" waits.

A fresh demo hub (``hubkeeper demo --no-serve``) is served by ``hubkeeper serve`` in its own
process, with Stripe pointed at a socket that accepts connections and never answers a byte. The
script times a run of ordinary writes (``POST /api/v1/charges``) on a quiet hub — the baseline,
measured in the same run — then presses Pay now on an invoice and, while it waits on "Stripe",
keeps writing and times every write. It reports how long Pay now took and what it answered, and
the writes during the wait as multiples of the baseline.

    .venv/bin/python bench/stripe_outage.py                                   # SQLite
    .venv/bin/python bench/stripe_outage.py --postgresql postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/stripe_outage.py --checkout /tmp/older-checkout    # the same, on older code

``--checkout`` runs another checkout's code (``python -m hub`` from that folder), so a before and
an after are measured by one script. Results go to ``bench/results/stripe-outage-<backend>.json``
(with ``--label``, ``stripe-outage-<backend>-<label>.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, environment, free_port

WRITES_IN_BASELINE = 30
LONGEST_WAIT_MEASURED = 60.0  # seconds of writes measured during the outage, at most


class BlackHole:
    """Accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopping:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                continue

    def close(self) -> None:
        self.stopping = True
        self.thread.join(timeout=5)
        for conn in self.held:
            conn.close()
        self.sock.close()


def hub_command(checkout: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "hub", *args]


def run(checkout: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        hub_command(checkout, *args), cwd=checkout, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"hubkeeper {' '.join(args)} failed: {done.stdout}\n{done.stderr}")
    return done.stdout


def charge(http: httpx.Client, org: int) -> tuple[int, float]:
    started = time.monotonic()
    response = http.post(
        "/api/v1/charges",
        json={
            "organisation_id": org,
            "description": "Extra cleaning",
            "net_pence": 1_000,
            "vat_rate_bp": 0,
            "supply_date": "2026-11-20",
        },
    )
    return response.status_code, (time.monotonic() - started) * 1000


def measure(checkout: Path, database_url: str, workdir: Path, demo_args: list[str]) -> dict[str, Any]:
    hole = BlackHole()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        HUB_ENV="development",
        HUB_DATABASE_URL=database_url,
        HUB_SUPPLIER_ADDRESS="The Old Hospital; Pharos Street; Fleetwood; FY7 6BE",
        HUB_STRIPE_SECRET_KEY="sk_test_bench",
        HUB_STRIPE_API_BASE=hole.url,
        PYTHONPATH=str(checkout),
    )
    run(checkout, env, "demo", "--no-serve", *demo_args)
    token = run(
        checkout, env, "tokens", "create", "--email", "reception@hub.test", "--name", "bench"
    ).split()[-1]
    port = free_port()
    log = (workdir / "server.log").open("w")
    server = subprocess.Popen(
        hub_command(checkout, "serve", "--port", str(port)),
        cwd=checkout,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {log.name}")
            time.sleep(0.2)
        with httpx.Client(base_url=base, headers=headers, timeout=200) as http:
            org = http.get("/api/v1/organisations", params={"per_page": 1}).json()["items"][0]["id"]
            for _ in range(5):
                charge(http, org)  # warm up
            quiet = [charge(http, org) for _ in range(WRITES_IN_BASELINE)]
            assert all(status == 201 for status, _ in quiet), quiet
            invoice = http.post("/api/v1/invoices", json={"organisation_id": org})
            assert invoice.status_code == 201, invoice.text
            invoice_id = invoice.json()["id"]

            pay: dict[str, Any] = {}

            def press_pay_now() -> None:
                with httpx.Client(base_url=base, headers=headers, timeout=300) as own:
                    started = time.monotonic()
                    response = own.post(f"/api/v1/invoices/{invoice_id}/pay")
                    pay.update(
                        status=response.status_code,
                        seconds=round(time.monotonic() - started, 2),
                        detail=(response.json().get("detail") if response.content else "")[:200],
                    )

            presser = threading.Thread(target=press_pay_now)
            presser.start()
            time.sleep(0.3)  # Pay now is waiting on "Stripe"
            during: list[tuple[int, float]] = []
            started = time.monotonic()
            while presser.is_alive() and time.monotonic() - started < LONGEST_WAIT_MEASURED:
                during.append(charge(http, org))
            presser.join(timeout=400)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        hole.close()
    quiet_ms = [ms for _, ms in quiet]
    during_ms = [ms for _, ms in during]
    baseline = statistics.median(quiet_ms)
    refused = [status for status, _ in during if status != 201]
    return {
        "pay_now": pay,
        "baseline_write_ms": {
            "median": round(baseline, 1),
            "max": round(max(quiet_ms), 1),
            "n": len(quiet_ms),
        },
        "writes_during_outage": {
            "n": len(during),
            "refused": len(refused),
            "statuses_refused": sorted(set(refused)),
            "median_ms": round(statistics.median(during_ms), 1) if during_ms else None,
            "max_ms": round(max(during_ms), 1) if during_ms else None,
            "median_vs_baseline": round(statistics.median(during_ms) / baseline, 2) if during_ms else None,
            "max_vs_baseline": round(max(during_ms) / baseline, 2) if during_ms else None,
        },
    }


def postgres_database(server_url: str) -> tuple[str, Any]:
    import asyncio

    import asyncpg

    name = f"hub_bench_outage_{uuid.uuid4().hex[:10]}"
    admin = server_url.replace("postgresql+asyncpg://", "postgresql://").rpartition("/")[0] + "/postgres"

    async def execute(statement: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    return admin.rpartition("/")[0] + f"/{name}", lambda: asyncio.run(
        execute(f'DROP DATABASE IF EXISTS "{name}"')
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgresql", metavar="URL", help="measure on PostgreSQL (a server URL)")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="whose code to run (default: this one)")
    parser.add_argument("--label", default="", help="added to the results file's name")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    with tempfile.TemporaryDirectory(prefix="hub-bench-outage-") as directory:
        workdir = Path(directory)
        if args.postgresql:
            backend = "postgresql"
            url, drop = postgres_database(args.postgresql)
            try:
                result = measure(checkout, url, workdir, ["--database-url", url])
            finally:
                drop()
        else:
            backend = "sqlite"
            path = workdir / "hub.sqlite3"
            result = measure(checkout, f"sqlite:///{path}", workdir, ["--database", str(path)])
    result["environment"] = environment() | {"checkout": str(checkout)}
    name = f"stripe-outage-{backend}{'-' + args.label if args.label else ''}.json"
    out = ROOT / "bench" / "results" / name
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
