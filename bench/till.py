"""Benchmark: two café tills ringing at once while the desk books, and the Z report over a year.

A fresh database is migrated and given the demo café (menu, two tills, a month of sales), the
demo's rooms and one organisation, then a year of history: 100,000 sales (two lines and a tender
each) bulk-inserted into one closed session, so its Z report adds up 100,000 sales. Both tills get
an open session. The real app is served by uvicorn in its own process and measured over HTTP:

  floor            GET /healthz (a bare endpoint through the same stack), one at a time
  till alone       POST /api/v1/cafe/sales from one till, one at a time
  two tills        two client threads, one per till, each ringing sales back to back, while a
                   third thread books rooms at the desk (POST /api/v1/bookings) — sales/s over the
                   whole run, and each sale's p50/p99; the desk's bookings p50/p99 beside them
  Z report         GET /api/v1/cafe/sessions/{id}/report of the 100,000-sale session
  trading (year)   GET /api/v1/cafe/reports/trading over the year (the trustees' café figures)

    .venv/bin/python bench/till.py                 # SQLite (+ PostgreSQL if HUB_BENCH_POSTGRES_URL)
    .venv/bin/python bench/till.py --quick         # fewer sales and 20,000 history, a smoke run
    HUB_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/till.py

Results go to bench/results/till-<backend>.json with the machine, commit and load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from common import Server, environment, postgres_urls, sqlite_urls  # noqa: E402

from hub.config import Settings, load_settings  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SECRET = "bench-secret-key-that-is-long-enough-0123456789"


@dataclass
class Counts:
    history: int = 100_000
    sales_per_till: int = 300
    alone: int = 150
    floor: int = 300
    z_report: int = 10
    trading: int = 5

    @classmethod
    def quick(cls) -> Counts:
        return cls(history=20_000, sales_per_till=60, alone=40, floor=100, z_report=3, trading=2)


def bench_settings(database_url: str) -> Settings:
    settings = load_settings({"HUB_ENV": "test", "HUB_DATABASE_URL": database_url})
    return replace(settings, secret_key=SECRET)


@dataclass
class Seeded:
    tokens: dict[str, str]  # "counter", "window", "desk", "supervisor"
    sessions: dict[str, int]  # "counter", "window", "year"
    tills: dict[str, int]
    products: dict[str, int]
    rooms: list[int]
    organisation_id: int
    first: date
    last: date
    seconds: float


async def _seed(settings: Settings, history: int) -> Seeded:
    from sqlalchemy import Table, insert, select, text

    from cafe import demo as cafe_demo
    from cafe.models import CafeProduct, CafeTill, Sale, SaleLine, Tender, TillSession
    from cafe.schemas import SessionOpen
    from cafe.services import tills
    from cafe.services.sales import vat_in_gross, vat_rate_bp
    from hub.auth import Identity
    from hub.db import create_engine, create_sessionmaker, writer
    from hub.models import OrganisationKind, Role
    from hub.schemas import OrganisationCreate, UserCreate
    from hub.services import accounts, organisations
    from rooms.demo import make_rooms

    started = time.perf_counter()
    actor = Identity.system("bench")
    engine = create_engine(settings)
    tokens: dict[str, str] = {}
    try:
        maker = create_sessionmaker(writer(engine))
        async with maker() as db:
            rooms = await make_rooms(db, actor)
            org = await organisations.create(
                db, actor, OrganisationCreate(name="Bench Community Group", kind=OrganisationKind.VCSE)
            )
            for key, role in (
                ("counter", Role.CAFE),
                ("window", Role.CAFE),
                ("supervisor", Role.CAFE_SUPERVISOR),
                ("desk", Role.RECEPTIONIST),
            ):
                user = await accounts.create_user(
                    db,
                    actor,
                    UserCreate(
                        email=f"{key}@bench.test",
                        name=f"Bench {key}",
                        role=role,
                        password="bench-pass-123456",
                    ),
                )
                tokens[key], _ = await accounts.create_token(db, settings, actor, "bench", user_id=user.id)
            await cafe_demo.seed(db, settings, {})
            till_ids = {
                name.lower(): int(i)
                for i, name in (await db.execute(select(CafeTill.id, CafeTill.name))).all()
            }
            products = {
                name: int(i)
                for i, name in (await db.execute(select(CafeProduct.id, CafeProduct.short_name))).all()
            }
            window = await tills.open_session(
                db, actor, SessionOpen(till_id=till_ids["window"], float_pence=5_000)
            )
            counter_session = int(
                await db.scalar(
                    select(TillSession.id).where(
                        TillSession.till_id == till_ids["counter"], TillSession.status == "open"
                    )
                )
                or 0
            )
            # A year of history in one closed session: the Z report adds up every sale in it.
            today = settings.today()
            first = today - timedelta(days=365)
            year_start = datetime.combine(first, datetime.min.time(), settings.zone)
            year = TillSession(
                till_id=till_ids["counter"],
                status="closed",
                opened_at=year_start,
                opened_by_label="bench",
                float_pence=10_000,
                closed_at=year_start + timedelta(days=364, hours=23),
                closed_by_label="bench",
                counted={},
                counted_cash_pence=0,
                expected_cash_pence=0,
                variance_pence=0,
            )
            db.add(year)
            await db.flush()
            year_id = year.id
            base_id = int(await db.scalar(select(text("coalesce(max(id), 0)")).select_from(Sale)) or 0) + 1
            base_line = (
                int(await db.scalar(select(text("coalesce(max(id), 0)")).select_from(SaleLine)) or 0) + 1
            )
            base_tender = (
                int(await db.scalar(select(text("coalesce(max(id), 0)")).select_from(Tender)) or 0) + 1
            )
            coffee = await db.get(CafeProduct, products["Coffee"])
            scone = await db.get(CafeProduct, products["Scone"])
            assert coffee is not None and scone is not None
            chunk = 10_000
            for start in range(0, history, chunk):
                sales, lines, tenders = [], [], []
                for n in range(start, min(history, start + chunk)):
                    sale_id = base_id + n
                    eat_in = n % 3 == 0
                    rung = year_start + timedelta(seconds=n * (364 * 86_400) // history)
                    items = [(coffee, 1 + n % 2), (scone, 1)]
                    total = vat = 0
                    for position, (product, quantity) in enumerate(items):
                        gross = product.price_pence * quantity
                        rate = vat_rate_bp(product.vat_kind, eat_in)
                        line_vat = vat_in_gross(gross, rate)
                        total += gross
                        vat += line_vat
                        lines.append(
                            {
                                "id": base_line + 2 * n + position,
                                "sale_id": sale_id,
                                "position": position,
                                "product_id": product.id,
                                "short_name": product.short_name,
                                "quantity": quantity,
                                "eat_in": eat_in,
                                "modifiers": [],
                                "unit_price_pence": product.price_pence,
                                "discount_pence": 0,
                                "line_total_pence": gross,
                                "vat_rate_bp": rate,
                                "vat_pence": line_vat,
                                "net_pence": gross - line_vat,
                            }
                        )
                    sales.append(
                        {
                            "id": sale_id,
                            "uuid": str(uuid.UUID(int=n + 1, version=4)),
                            "session_id": year_id,
                            "till_id": till_ids["counter"],
                            "rung_at": rung,
                            "recorded_at": rung,
                            "content_hash": "bench",
                            "total_pence": total,
                            "vat_pence": vat,
                            "discount_label": "",
                            "discount_pence": 0,
                            "gift_pence": 0,
                            "change_pence": 0,
                            "status": "completed",
                            "by_label": "bench",
                            "late": False,
                            "void_reason": "",
                        }
                    )
                    tenders.append(
                        {
                            "id": base_tender + n,
                            "sale_id": sale_id,
                            "position": 0,
                            "method": "card" if n % 2 else "cash",
                            "amount_pence": total,
                            "change_pence": 0,
                            "reference": "",
                        }
                    )
                for model, rows in ((Sale, sales), (SaleLine, lines), (Tender, tenders)):
                    table: Table = model.__table__  # type: ignore[assignment]
                    await db.execute(insert(table), rows)
            if settings.database_url.startswith("postgres"):
                for table_name in ("cafe_sales", "cafe_sale_lines", "cafe_tenders"):
                    await db.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), "
                            f"(SELECT max(id) FROM {table_name}))"
                        )
                    )
            await db.commit()
            atoms = [room_id for name, room_id in rooms.items() if name != "Main Hall"]
            return Seeded(
                tokens=tokens,
                sessions={"counter": counter_session, "window": window.id, "year": year_id},
                tills=till_ids,
                products=products,
                rooms=atoms,
                organisation_id=org.id,
                first=first,
                last=today,
                seconds=time.perf_counter() - started,
            )
    finally:
        await engine.dispose()


def make_database(settings: Settings, history: int) -> Seeded:
    from hub import migrations

    migrations.upgrade(settings)
    return asyncio.run(_seed(settings, history))


def serve(database_url: str, port: int) -> None:
    import uvicorn

    from hub.app import create_app

    uvicorn.run(
        create_app(bench_settings(database_url)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )


# --- measuring -------------------------------------------------------------------------------------


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "n": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(pct(samples, 0.99), 2),
        "mean_ms": round(statistics.fmean(samples), 2),
    }


def sale_body(seeded: Seeded, till: str, n: int) -> dict[str, Any]:
    lines = [
        {"product_id": seeded.products["Coffee"], "quantity": 1 + n % 2},
        {"product_id": seeded.products["Scone"], "quantity": 1},
    ]
    total = 250 * (1 + n % 2) + 225
    return {
        "uuid": str(uuid.uuid4()),
        "session_id": seeded.sessions[till],
        "till_id": seeded.tills[till],
        "rung_at": datetime.now(UTC).isoformat(),
        "lines": lines,
        "tenders": [{"method": "cash", "amount_pence": total, "tendered_pence": 1_000}],
    }


def desk_slots(seeded: Seeded, settings: Settings) -> Iterator[dict[str, Any]]:
    day = settings.today() + timedelta(days=120)
    while True:
        day += timedelta(days=1)
        if day.weekday() >= 5:
            continue
        for hour in (10, 11, 12, 13, 14, 15):
            for room in seeded.rooms:
                yield {
                    "room_id": room,
                    "organisation_id": seeded.organisation_id,
                    "title": "Bench meeting",
                    "start": f"{day.isoformat()}T{hour:02d}:00:00",
                    "end": f"{day.isoformat()}T{hour:02d}:45:00",
                }


def timed(call: Callable[[], httpx.Response], expect: int) -> float:
    started = time.perf_counter()
    response = call()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != expect:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} -> {response.status_code}: "
            f"{response.text[:300]}"
        )
    return elapsed


def measure(base: str, seeded: Seeded, settings: Settings, counts: Counts) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def client(token: str) -> httpx.Client:
        return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)

    with client(seeded.tokens["counter"]) as api:
        for _ in range(20):
            api.get("/healthz")
        out["floor /healthz"] = summary(
            [timed(lambda: api.get("/healthz"), 200) for _ in range(counts.floor)]
        )
        for n in range(10):
            timed(lambda n=n: api.post("/api/v1/cafe/sales", json=sale_body(seeded, "counter", n)), 201)
        out["till alone"] = summary(
            [
                timed(lambda n=n: api.post("/api/v1/cafe/sales", json=sale_body(seeded, "counter", n)), 201)
                for n in range(counts.alone)
            ]
        )

    # Two tills and the desk at once.
    timings: dict[str, list[float]] = {"counter": [], "window": [], "desk": []}
    desk_statuses: dict[int, int] = {}
    errors: list[str] = []
    stop_desk = threading.Event()
    slots = desk_slots(seeded, settings)

    def till(name: str) -> None:
        try:
            with client(seeded.tokens[name]) as api:
                for n in range(counts.sales_per_till):
                    timings[name].append(
                        timed(
                            lambda n=n: api.post("/api/v1/cafe/sales", json=sale_body(seeded, name, n)), 201
                        )
                    )
        except Exception as exc:  # reported after the run
            errors.append(f"{name}: {exc}")

    def desk() -> None:
        with client(seeded.tokens["desk"]) as api:
            while not stop_desk.is_set():
                started = time.perf_counter()
                response = api.post("/api/v1/bookings", json=next(slots))
                timings["desk"].append((time.perf_counter() - started) * 1000)
                desk_statuses[response.status_code] = desk_statuses.get(response.status_code, 0) + 1

    threads = [threading.Thread(target=till, args=(name,)) for name in ("counter", "window")]
    desk_thread = threading.Thread(target=desk)
    started = time.perf_counter()
    desk_thread.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    stop_desk.set()
    desk_thread.join()
    if errors:
        raise RuntimeError("; ".join(errors))
    both = timings["counter"] + timings["window"]
    out["two tills"] = summary(both) | {
        "sales_per_second": round(len(both) / wall, 1),
        "wall_s": round(wall, 2),
    }
    out["desk while tills ring"] = summary(timings["desk"]) | {"statuses": desk_statuses}

    with client(seeded.tokens["supervisor"]) as api:
        path = f"/api/v1/cafe/sessions/{seeded.sessions['year']}/report"
        first = api.get(path).json()
        out["Z report"] = summary([timed(lambda: api.get(path), 200) for _ in range(counts.z_report)]) | {
            "sales": first["sales"],
            "gross_pence": first["gross_pence"],
            "vat_pence": first["vat_pence"],
        }
        params = {"first": seeded.first.isoformat(), "last": seeded.last.isoformat()}
        out["trading (year)"] = summary(
            [
                timed(lambda: api.get("/api/v1/cafe/reports/trading", params=params), 200)
                for _ in range(counts.trading)
            ]
        )
    return out


def run_backend(backend: str, make_url: Callable[[int], Iterator[str]], counts: Counts) -> dict[str, Any]:
    for url in make_url(counts.history):
        settings = bench_settings(url)
        print(f"[{backend}] seeding the demo café and {counts.history:,} sales of history ...", flush=True)
        seeded = make_database(settings, counts.history)
        print(f"[{backend}] seeded in {seeded.seconds:.1f}s; measuring ...", flush=True)
        with (
            tempfile.TemporaryDirectory() as logs,
            Server(__file__, url, Path(logs) / "server.log") as server,
        ):
            results = measure(server.base, seeded, settings, counts)
        return {"backend": backend, "seed_seconds": round(seeded.seconds, 1), "operations": results}
    raise RuntimeError("no database")


def report(results: dict[str, Any]) -> None:
    ops = results["operations"]
    floor = ops["floor /healthz"]["p50_ms"]
    print(f"\n{results['backend']}: p50 / p99 in ms (× floor = p50 ÷ floor p50)")
    for name, stat in ops.items():
        extra = ""
        if "sales_per_second" in stat:
            extra = f"  {stat['sales_per_second']} sales/s over {stat['wall_s']} s"
        if "sales" in stat:
            extra = f"  over {stat['sales']:,} sales"
        if "statuses" in stat:
            extra = f"  statuses {stat['statuses']}"
        print(
            f"  {name:24} {stat['p50_ms']:9.2f} {stat['p99_ms']:9.2f} {stat['p50_ms'] / floor:8.1f}×{extra}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--postgres-url", default=os.environ.get("HUB_BENCH_POSTGRES_URL", ""))
    parser.add_argument("--serve", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    counts = Counts.quick() if args.quick else Counts()
    backends: list[tuple[str, Callable[[int], Iterator[str]]]] = []
    if args.backend in ("sqlite", "all"):
        backends.append(("sqlite", sqlite_urls("hub-till")))
    if args.backend in ("postgresql", "all"):
        if args.postgres_url:
            backends.append(("postgresql", postgres_urls(args.postgres_url, "hub_till")))
        elif args.backend == "postgresql":
            parser.error("give --postgres-url or set HUB_BENCH_POSTGRES_URL")
    RESULTS.mkdir(parents=True, exist_ok=True)
    for backend, make_url in backends:
        load_before = [round(x, 2) for x in os.getloadavg()]
        results = run_backend(backend, make_url, counts)
        results["environment"] = environment() | {"load_average_before": load_before}
        results["counts"] = counts.__dict__ | {"quick": args.quick}
        report(results)
        if not args.quick:
            (RESULTS / f"till-{backend}.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
