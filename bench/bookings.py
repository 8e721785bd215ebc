"""Benchmark: does what one booking costs grow with the building's history?

For each history size (500 and 50,000 bookings) a fresh database is migrated, given the demo's
rooms and rates, and filled with confirmed bookings (bulk-inserted with their occupancy rows,
spread over about two years, never overlapping). The real app is then served by uvicorn in a
separate process and measured over HTTP:

  create       POST /api/v1/bookings, one at a time, each in a free slot
  create x10   ten POSTs at once (asyncio), per-batch wall time
  availability GET /api/v1/availability for one day across all rooms
  desk         GET /desk?date=… (the reception day view), signed in as a receptionist
  day (API)    GET /api/v1/bookings?from=… (the day's bookings as JSON)
  floor        GET /healthz: a bare endpoint through the same stack

It prints a table, the 50k/500 ratio of each operation (at most 1.5 is the target) and each
operation as a multiple of the floor, and writes bench/results/bookings-<backend>.json. It also
reports, per size, ten at once ÷ (10 × one): simultaneous writers must queue, not sleep, so ten
at once cost at most ten in a row (target ≤ 1.0; the JSON's "ten_at_once").

    .venv/bin/python bench/bookings.py            # SQLite (+ PostgreSQL if HUB_BENCH_POSTGRES_URL)
    .venv/bin/python bench/bookings.py --quick    # smaller counts, for a smoke run
    HUB_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bookings.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from common import Server, Stat, environment, postgres_urls, sqlite_urls  # noqa: E402

from hub.config import Settings, load_settings  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SECRET = "bench-secret-key-that-is-long-enough-0123456789"
STAFF_EMAIL = "reception@bench.test"
STAFF_PASSWORD = "bench-reception-pass"
HISTORY_DAYS = 730  # history spans about two years ...
HISTORY_FUTURE_DAYS = 90  # ... of which the last three months are still to come
HISTORY_HOURS = (8, 10, 12, 14, 16, 18, 20)  # history takes even hours, 1 hour each
CREATE_HOURS = (9, 11, 13, 15, 17, 19, 21)  # new bookings take HH:15–HH:45 of odd hours
# The measured day holds the same bookings whatever the history (one per room at these hours),
# so that a ratio compares cost per booking of history, not a busier day.
PROBE_DAY_HOURS = (9, 11, 13, 15)
CATEGORIES = (("class", "public"), ("meeting", "private"), ("clinic", "private"), ("youth", "public"))
RATIO_LIMIT = 1.5
TEN_AT_ONCE_LIMIT = 1.0


@dataclass
class Counts:
    create: int = 200
    batch_rounds: int = 20
    availability: int = 200
    desk: int = 100
    day_api: int = 100
    floor: int = 500
    warmup: int = 10

    @classmethod
    def quick(cls) -> Counts:
        return cls(create=40, batch_rounds=5, availability=40, desk=20, day_api=20, floor=100, warmup=5)


def bench_settings(database_url: str) -> Settings:
    settings = load_settings({"HUB_ENV": "test", "HUB_DATABASE_URL": database_url})
    return replace(settings, secret_key=SECRET)


# --- making the database --------------------------------------------------------------------------


@dataclass
class Seeded:
    rooms: dict[str, int]
    history_rooms: list[int]
    organisation_id: int
    token: str
    today: date
    seconds: float


async def _seed(settings: Settings, history: int) -> Seeded:
    """Rooms and rates through the services (the demo's), then ``history`` bookings in bulk."""
    from sqlalchemy import insert, text

    from hub.auth import Identity
    from hub.db import create_engine, create_sessionmaker
    from hub.models import OrganisationKind, Role
    from hub.schemas import OrganisationCreate, UserCreate
    from hub.services import accounts, organisations
    from rooms.demo import make_rooms
    from rooms.models import Booking, RoomOccupancy
    from rooms.services.localtime import combine_local

    started = time.perf_counter()
    actor = Identity.system("bench")
    zone = settings.zone
    today = datetime.now(zone).date()
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as db:
            rooms = await make_rooms(db, actor)
            org = await organisations.create(
                db, actor, OrganisationCreate(name="Bench Community Group", kind=OrganisationKind.VCSE)
            )
            user = await accounts.create_user(
                db,
                actor,
                UserCreate(
                    email=STAFF_EMAIL,
                    name="Bench Receptionist",
                    role=Role.RECEPTIONIST,
                    password=STAFF_PASSWORD,
                ),
            )
            token, _ = await accounts.create_token(db, settings, actor, "bench", user_id=user.id)
            organisation_id = org.id
        # Only indivisible rooms carry history, so no two bookings can compete for a hall's parts.
        atoms = [room_id for name, room_id in rooms.items() if name != "Main Hall"]
        first_day = today - timedelta(days=HISTORY_DAYS - HISTORY_FUTURE_DAYS)
        probe = probe_date(today, settings)
        history_days = [
            d for d in (first_day + timedelta(days=k) for k in range(HISTORY_DAYS + 1)) if d != probe
        ]
        slots_per_room = HISTORY_DAYS * len(HISTORY_HOURS)
        now = datetime.now(UTC)
        booking_rows: list[dict[str, Any]] = []
        occupancy_rows: list[dict[str, Any]] = []
        for i in range(history):
            room_id = atoms[i % len(atoms)]
            in_room = history // len(atoms) + (1 if i % len(atoms) < history % len(atoms) else 0)
            slot = (i // len(atoms)) * slots_per_room // in_room  # evenly over the two years
            day = history_days[slot // len(HISTORY_HOURS)]
            hour = HISTORY_HOURS[slot % len(HISTORY_HOURS)]
            start = combine_local(day, clock(hour), zone)
            end = combine_local(day, clock(hour + 1), zone)
            category, visibility = CATEGORIES[i % len(CATEGORIES)]
            booking_rows.append(
                {
                    "id": i + 1,
                    "room_id": room_id,
                    "series_id": None,
                    "series_original_start": None,
                    "is_exception": False,
                    "organisation_id": organisation_id,
                    "contact_name": "",
                    "contact_email": None,
                    "contact_phone": None,
                    "title": f"History booking {i + 1}",
                    "public_title": "",
                    "category": category,
                    "expected_attendance": None,
                    "visibility": visibility,
                    "notes": "",
                    "status": "confirmed",
                    "hold_expires_at": None,
                    "start_at": start,
                    "end_at": end,
                    "setup_minutes": 0,
                    "cleardown_minutes": 0,
                    "outside_hours_override": False,
                    "rate_band": "community",
                    "price_description": "History",
                    "price_net_pence": 1_800,
                    "vat_rate_bp": 0,
                    "vat_pence": 0,
                    "cancelled_at": None,
                    "cancelled_by_id": None,
                    "cancel_reason": "",
                    "cancellation_fee_pence": 0,
                    "checked_in_at": None,
                    "attendance": None,
                    "no_show": False,
                    "created_by_id": None,
                    "created_at": now,
                    "updated_at": now,
                    "sequence": 0,
                }
            )
            occupancy_rows.append(
                {"id": i + 1, "booking_id": i + 1, "room_id": room_id, "busy_start": start, "busy_end": end}
            )
        for room_id in atoms:
            for hour in PROBE_DAY_HOURS:
                i = len(booking_rows)
                start = combine_local(probe, clock(hour), zone)
                end = combine_local(probe, clock(hour + 1), zone)
                # Same columns as a history row (history is never empty: sizes start at 500).
                booking_rows.append(
                    {
                        **booking_rows[0],
                        "id": i + 1,
                        "room_id": room_id,
                        "start_at": start,
                        "end_at": end,
                        "title": f"Probe-day booking {i + 1}",
                    }
                )
                occupancy_rows.append(
                    {
                        "id": i + 1,
                        "booking_id": i + 1,
                        "room_id": room_id,
                        "busy_start": start,
                        "busy_end": end,
                    }
                )
        async with engine.begin() as conn:
            for chunk in range(0, len(booking_rows), 5_000):
                await conn.execute(insert(Booking.__table__), booking_rows[chunk : chunk + 5_000])
                await conn.execute(insert(RoomOccupancy.__table__), occupancy_rows[chunk : chunk + 5_000])
            if not settings.is_sqlite and history:
                for table in ("bookings", "room_occupancy"):
                    sequence = f"pg_get_serial_sequence('{table}', 'id')"
                    await conn.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))
        if not settings.is_sqlite:
            # A live PostgreSQL has statistics (autovacuum); a fresh bulk load has none until ANALYZE.
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    return Seeded(rooms, atoms, organisation_id, token, today, time.perf_counter() - started)


def make_database(settings: Settings, history: int) -> Seeded:
    from hub import migrations

    migrations.upgrade(settings)
    return asyncio.run(_seed(settings, history))


# --- serving ---------------------------------------------------------------------------------------


def serve(database_url: str, port: int) -> None:
    """The server half (run in its own process, so client and server do not share a GIL)."""
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


def free_slots(seeded: Seeded, settings: Settings) -> Iterator[tuple[int, date, int]]:
    """(room, day, hour) no history booking touches: odd hours on open weekdays still to come."""
    from rooms.services.calendar import bank_holiday

    day = seeded.today + timedelta(days=1)
    while True:
        if day.weekday() < 5 and bank_holiday(settings, day) is None:
            for hour in CREATE_HOURS:
                for room_id in seeded.history_rooms:
                    yield room_id, day, hour
        day += timedelta(days=1)


def probe_day(seeded: Seeded, settings: Settings) -> date:
    return probe_date(seeded.today, settings)


def probe_date(today: date, settings: Settings) -> date:
    """An open weekday about two months ahead: inside the history, clear of the new bookings.
    (A closed day would let availability answer without looking at a single booking.)"""
    from rooms.services.calendar import bank_holiday

    day = today + timedelta(days=60)
    while day.weekday() >= 5 or bank_holiday(settings, day) is not None:
        day += timedelta(days=1)
    return day


def booking_body(seeded: Seeded, slot: tuple[int, date, int]) -> dict[str, Any]:
    room_id, day, hour = slot
    return {
        "room_id": room_id,
        "organisation_id": seeded.organisation_id,
        "title": "Bench booking",
        "category": "meeting",
        "start": f"{day.isoformat()}T{hour:02d}:15:00",
        "end": f"{day.isoformat()}T{hour:02d}:45:00",
    }


def timed(call: Callable[[], httpx.Response], expect: int) -> float:
    started = time.perf_counter()
    response = call()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != expect:
        request = response.request
        raise RuntimeError(f"{request.method} {request.url} -> {response.status_code}: {response.text[:500]}")
    return elapsed


def sign_in(client: httpx.Client) -> bool:
    page = client.get("/login")
    match = re.search(r'name="_csrf" value="([^"]+)"', page.text)
    if not match:
        return False
    response = client.post(
        "/login",
        data={"_csrf": match.group(1), "email": STAFF_EMAIL, "password": STAFF_PASSWORD, "next": "/"},
    )
    return response.status_code == 303


async def _batches(base: str, token: str, bodies: list[list[dict[str, Any]]]) -> list[float]:
    timings = []
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=10)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:
        for batch in bodies:
            started = time.perf_counter()
            responses = await asyncio.gather(*(client.post("/api/v1/bookings", json=body) for body in batch))
            timings.append((time.perf_counter() - started) * 1000)
            bad = [r for r in responses if r.status_code != 201]
            if bad:
                raise RuntimeError(f"concurrent create -> {bad[0].status_code}: {bad[0].text[:500]}")
    return timings


def measure(base: str, seeded: Seeded, settings: Settings, counts: Counts) -> dict[str, Stat]:
    slots = free_slots(seeded, settings)
    day = probe_day(seeded, settings).isoformat()
    stats: dict[str, Stat] = {}

    def run(
        client: httpx.Client,
        name: str,
        count: int,
        call: Callable[[], httpx.Response],
        expect: int = 200,
        note: str = "",
    ) -> None:
        for _ in range(counts.warmup):
            timed(call, expect)
        stats[name] = Stat(name, [timed(call, expect) for _ in range(count)], note)

    headers = {"Authorization": f"Bearer {seeded.token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as api:
        run(api, "floor /healthz", counts.floor, lambda: api.get("/healthz"))
        run(
            api,
            "create",
            counts.create,
            lambda: api.post("/api/v1/bookings", json=booking_body(seeded, next(slots))),
            expect=201,
        )
        batches = [
            [booking_body(seeded, next(slots)) for _ in range(10)] for _ in range(counts.batch_rounds + 2)
        ]
        timings = asyncio.run(_batches(base, seeded.token, batches))[2:]  # the first two warm up
        stats["create x10 (batch)"] = Stat(
            "create x10 (batch)", timings, "wall time of 10 concurrent creates"
        )
        run(
            api,
            "availability",
            counts.availability,
            lambda: api.get("/api/v1/availability", params={"date": day, "start": "10:00", "end": "12:00"}),
            note="all rooms, one local date, 10:00-12:00",
        )
        run(
            api,
            "day (API)",
            counts.day_api,
            lambda: api.get("/api/v1/bookings", params={"from": day}),
            note="GET /api/v1/bookings?from=DATE",
        )
    with httpx.Client(base_url=base, timeout=60) as browser:
        if sign_in(browser) and browser.get("/desk", params={"date": day}).status_code == 200:
            run(
                browser,
                "desk day view",
                counts.desk,
                lambda: browser.get("/desk", params={"date": day}),
                note="GET /desk?date=DATE as a signed-in receptionist",
            )
        else:
            print("  desk day view: not available (GET /desk did not answer 200 for a receptionist)")
    return stats


# --- running and reporting -------------------------------------------------------------------------


def run_backend(
    backend: str, make_url: Callable[[int], Iterator[str]], sizes: list[int], counts: Counts
) -> dict[str, Any]:
    results: dict[str, Any] = {"backend": backend, "sizes": {}}
    for size in sizes:
        for url in make_url(size):
            settings = bench_settings(url)
            print(f"[{backend}] {size:,} bookings of history: seeding ...", flush=True)
            seeded = make_database(settings, size)
            print(f"[{backend}] seeded in {seeded.seconds:.1f}s; measuring ...", flush=True)
            with (
                tempfile.TemporaryDirectory() as logs,
                Server(__file__, url, Path(logs) / "server.log") as server,
            ):
                stats = measure(server.base, seeded, settings, counts)
            results["sizes"][str(size)] = {
                "seed_seconds": round(seeded.seconds, 1),
                "operations": {name: stat.as_json() for name, stat in stats.items()},
            }
    return results


def report(results: dict[str, Any], sizes: list[int]) -> None:
    small, large = str(sizes[0]), str(sizes[-1])
    by_size = results["sizes"]
    names = list(by_size[large]["operations"])
    floor_name = "floor /healthz"
    print()
    sizes_text = f"{int(large):,} ÷ {int(small):,}"
    print(f"{results['backend']}: median / p95 in ms; ratio = {sizes_text} (target ≤ {RATIO_LIMIT})")
    columns = [f"{small} med", f"{small} p95", f"{large} med", f"{large} p95"]
    header = f"{'operation':22} " + " ".join(f"{c:>10}" for c in columns) + f" {'ratio':>7} {'× floor':>9}"
    print(header)
    print("-" * len(header))
    ratios: dict[str, Any] = {}
    for name in names:
        a = by_size[small]["operations"].get(name)
        b = by_size[large]["operations"][name]
        ratio = b["median_ms"] / a["median_ms"] if a else None
        floor = by_size[large]["operations"][floor_name]["median_ms"]
        times_floor = b["median_ms"] / floor
        verdict = (
            "" if ratio is None or name == floor_name else ("  ok" if ratio <= RATIO_LIMIT else "  GROWS")
        )
        ratios[name] = {
            "ratio_large_to_small": round(ratio, 2) if ratio else None,
            "times_floor_small": round(
                a["median_ms"] / by_size[small]["operations"][floor_name]["median_ms"], 1
            )
            if a
            else None,
            "times_floor_large": round(times_floor, 1),
            "within_limit": None if ratio is None else ratio <= RATIO_LIMIT,
        }
        nan = float("nan")
        cells = [a["median_ms"] if a else nan, a["p95_ms"] if a else nan, b["median_ms"], b["p95_ms"]]
        figures = " ".join(f"{c:10.1f}" for c in cells)
        print(f"{name:22} {figures} {ratio or nan:7.2f} {times_floor:9.1f}{verdict}")
    results["ratios"] = ratios
    print()
    print(f"ten creates at once ÷ (10 × one create), medians (target ≤ {TEN_AT_ONCE_LIMIT}):")
    ten_at_once: dict[str, Any] = {}
    for size, figures_for_size in by_size.items():
        operations = figures_for_size["operations"]
        one, ten = operations["create"]["median_ms"], operations["create x10 (batch)"]["median_ms"]
        share = ten / (10 * one)
        ten_at_once[size] = {
            "one_ms": one,
            "ten_at_once_ms": ten,
            "ratio": round(share, 2),
            "within_limit": share <= TEN_AT_ONCE_LIMIT,
        }
        verdict = "ok" if share <= TEN_AT_ONCE_LIMIT else "SLOWER THAN IN A ROW"
        print(f"  {int(size):>7,} bookings: {ten:.1f} ÷ (10 × {one:.1f}) = {share:.2f}  {verdict}")
    results["ten_at_once"] = ten_at_once


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller counts (a smoke run)")
    parser.add_argument(
        "--sizes", default="500,50000", help="history sizes, comma-separated (default 500,50000)"
    )
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgresql", "all"],
        default="all",
        help="default: SQLite, and PostgreSQL if configured",
    )
    parser.add_argument("--postgres-url", default=os.environ.get("HUB_BENCH_POSTGRES_URL", ""))
    parser.add_argument("--serve", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    counts = Counts.quick() if args.quick else Counts()
    backends: list[tuple[str, Callable[[int], Iterator[str]]]] = []
    if args.backend in ("sqlite", "all"):
        backends.append(("sqlite", sqlite_urls("hub-bench")))
    if args.backend in ("postgresql", "all"):
        if args.postgres_url:
            backends.append(("postgresql", postgres_urls(args.postgres_url, "hub_bench")))
        elif args.backend == "postgresql":
            parser.error("give --postgres-url or set HUB_BENCH_POSTGRES_URL")
        else:
            print("PostgreSQL: skipped (set HUB_BENCH_POSTGRES_URL to include it)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    for backend, make_url in backends:
        load_before = [round(x, 2) for x in os.getloadavg()]
        started = time.perf_counter()
        results = run_backend(backend, make_url, sizes, counts)
        results["environment"] = environment() | {"load_average_before": load_before}
        results["counts"] = counts.__dict__ | {"quick": args.quick}
        report(results, sizes)
        results["seconds"] = round(time.perf_counter() - started, 1)
        path = RESULTS / f"bookings-{backend}{'-quick' if args.quick else ''}.json"
        path.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\n{backend}: {results['seconds']:.0f}s in all; results in {path.relative_to(ROOT)}\n")


if __name__ == "__main__":
    main()
