"""Benchmark: a building feed of 20,000 occurrences, and the conditional request that spares it.

A fresh database is migrated, given the demo's rooms and rates, and filled in bulk with what
rooms.services.series.create_series writes: 300 weekly series of 60 occurrences (every tenth with
one occurrence cancelled, every twentieth with one moved an hour later, so EXDATEs and
RECURRENCE-ID overrides are exercised) and 2,000 one-off bookings; 20,000 occurrences in all.
Occupancy rows are not written: feeds never read them. Then, in the same run:

  build (first)      rooms.services.feeds.build_feed, building scope, a window covering everything
                     (the first in the process: includes working out the VTIMEZONE)
  build (cold)       the same, median of 5, each in a new session and never from cached bytes
  feed_version       the ETag computation a conditional request makes, median of 50
  HTTP 304           GET /feeds/building.ics with If-None-Match, through the app (TestClient)
  HTTP 200 (build)   the first full GET after a change: builds the body (cache emptied each time)
  HTTP 200 (bytes)   every later GET: the bytes built once for the current ETag
  string-join        the floor: one query for the live occurrences' columns and an f-string
                     VEVENT each (UTC times), joined; measured in the same run
  naive icalendar    icalendar's object model: one Event per occurrence (UTC times), to_ical()

It prints a table with the ratios and the targets (cold build <= 300 ms and <= 2x the string-join
serialiser; a GET from built bytes <= 20 ms) and writes bench/results/feeds-<backend>.json.

    .venv/bin/python bench/feeds.py                 # SQLite (+ PostgreSQL if HUB_BENCH_POSTGRES_URL)
    HUB_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/feeds.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hub.config import Settings, load_settings  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SECRET = "bench-secret-key-that-is-long-enough-0123456789"
SERIES = 300
PER_SERIES = 60
ONE_OFFS = 2_000
HOURS = (8, 10, 12, 14, 16, 18)
BUILD_RUNS = 5
VERSION_RUNS = 50
HTTP_304_RUNS = 50
HTTP_FULL_RUNS = 3
HTTP_CACHED_RUNS = 50
JOIN_RUNS = 5
NAIVE_RUNS = 1  # about 12 s a run: the point is its order of magnitude


def bench_settings(database_url: str) -> Settings:
    settings = load_settings({"HUB_ENV": "test", "HUB_DATABASE_URL": database_url})
    return replace(settings, secret_key=SECRET)


def _booking_row(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "series_id": None,
        "series_original_start": None,
        "is_exception": False,
        "contact_name": "",
        "contact_email": None,
        "contact_phone": None,
        "public_title": "",
        "expected_attendance": None,
        "notes": "",
        "status": "confirmed",
        "hold_expires_at": None,
        "setup_minutes": 0,
        "cleardown_minutes": 0,
        "outside_hours_override": False,
        "rate_band": "community",
        "price_description": "Bench",
        "price_net_pence": 1_200,
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
        "sequence": 0,
    }
    row.update(fields)
    return row


async def seed(settings: Settings) -> tuple[date, date, int, float]:
    """Rooms through the services, then series and bookings in bulk. Returns the window and count."""
    from sqlalchemy import insert

    from hub.auth import Identity
    from hub.db import create_engine, create_sessionmaker
    from hub.models import OrganisationKind
    from hub.schemas import OrganisationCreate
    from hub.services import organisations
    from rooms.demo import make_rooms
    from rooms.models import Booking, Series
    from rooms.services.localtime import combine_local

    started = time.perf_counter()
    actor = Identity.system("bench")
    zone = settings.zone
    today = datetime.now(zone).date()
    first_monday = today - timedelta(days=today.weekday() + 28)
    engine = create_engine(settings)
    now = datetime.now(UTC)
    try:
        async with create_sessionmaker(engine)() as db:
            rooms = await make_rooms(db, actor)
            org = await organisations.create(
                db, actor, OrganisationCreate(name="Bench Group", kind=OrganisationKind.VCSE)
            )
            organisation_id = org.id
        atoms = [room_id for name, room_id in rooms.items() if name != "Main Hall"]
        series_rows: list[dict[str, Any]] = []
        booking_rows: list[dict[str, Any]] = []
        for k in range(SERIES):
            room_id = atoms[k % len(atoms)]
            weekday = (k // len(atoms)) % 5
            hour = HOURS[(k // (len(atoms) * 5)) % len(HOURS)]
            first = first_monday + timedelta(days=weekday)
            start_time = clock(hour, 30 if k % 2 else 0)
            category, visibility = ("class", "public") if k % 3 else ("clinic", "private")
            title = f"Weekly session {k + 1}"
            cancelled_index = 5 if k % 10 == 0 else None
            moved_index = 7 if k % 20 == 1 else None
            series_rows.append(
                {
                    "id": k + 1,
                    "room_id": room_id,
                    "organisation_id": organisation_id,
                    "rule": {"freq": "weekly", "interval": 1, "weekdays": [weekday], "monthly_by": "date"},
                    "first_date_local": first,
                    "start_time_local": start_time,
                    "duration_minutes": 90,
                    "until_local": None,
                    "count": PER_SERIES,
                    "template": {
                        "title": title,
                        "public_title": "",
                        "category": category,
                        "contact_name": "",
                        "contact_email": None,
                        "contact_phone": None,
                        "expected_attendance": None,
                        "visibility": visibility,
                        "notes": "",
                        "band": "community",
                        "end_time": clock(hour + 1, 0 if k % 2 else 30).isoformat(),
                    },
                    "skipped": [],
                    "created_by_id": None,
                    "created_at": now,
                    "updated_at": now,
                    "sequence": 0,
                }
            )
            for n in range(PER_SERIES):
                day = first + timedelta(weeks=n)
                start = combine_local(day, start_time, zone)
                original = start
                fields: dict[str, Any] = {}
                if n == cancelled_index:
                    fields = {
                        "status": "cancelled",
                        "cancelled_at": now,
                        "cancel_reason": "Bench",
                        "sequence": 1,
                    }
                if n == moved_index:
                    start = start + timedelta(hours=1)
                    fields = {"is_exception": True, "sequence": 1}
                booking_rows.append(
                    _booking_row(
                        room_id=room_id,
                        series_id=k + 1,
                        series_original_start=original,
                        organisation_id=organisation_id,
                        title=title,
                        category=category,
                        visibility=visibility,
                        start_at=start,
                        end_at=start + timedelta(minutes=90),
                        created_at=now,
                        updated_at=now,
                        **fields,
                    )
                )
        for i in range(ONE_OFFS):
            day = first_monday + timedelta(days=(i * 7) % (PER_SERIES * 7))
            start = combine_local(day, clock(20 + (i % 2), 0), zone)
            booking_rows.append(
                _booking_row(
                    room_id=atoms[i % len(atoms)],
                    organisation_id=organisation_id,
                    title=f"One-off event {i + 1}, with a comma; and a semicolon",
                    category="meeting" if i % 4 else "clinic",
                    visibility="public" if i % 4 else "private",
                    start_at=start,
                    end_at=start + timedelta(minutes=45),
                    created_at=now,
                    updated_at=now,
                )
            )
        async with engine.begin() as conn:
            await conn.execute(insert(Series), series_rows)
            for chunk in range(0, len(booking_rows), 2_000):
                await conn.execute(insert(Booking), booking_rows[chunk : chunk + 2_000])
            if settings.database_url.startswith("postgresql"):
                from sqlalchemy import text

                await conn.execute(
                    text("SELECT setval('booking_series_id_seq', (SELECT max(id) FROM booking_series))")
                )
                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    start_day = first_monday - timedelta(days=7)
    return start_day, start_day + timedelta(days=1_090), len(booking_rows), time.perf_counter() - started


def timed(samples: int, call: Callable[[], Any]) -> list[float]:
    out = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(samples: list[float], note: str = "") -> dict[str, Any]:
    return {
        "n": len(samples),
        "median_ms": round(statistics.median(samples), 2),
        "min_ms": round(min(samples), 2),
        "max_ms": round(max(samples), 2),
        "note": note,
    }


async def _in_session(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    from hub.db import create_engine, create_sessionmaker

    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as db:
            return await work(db)
    finally:
        await engine.dispose()


def measure(settings: Settings, backend: str) -> dict[str, Any]:
    import icalendar
    from litestar.testing import TestClient
    from sqlalchemy import select

    from hub.app import create_app
    from hub.db import create_engine, create_sessionmaker
    from rooms.models import LIVE_STATUSES, Booking, Room
    from rooms.services.feeds import FeedScope, Window, build_feed, escape, feed_version
    from rooms.services.feeds import bodies as feed_bodies

    window_start, window_end, rows, seed_seconds = asyncio.run(seed(settings))
    window = Window(window_start, window_end)
    scope = FeedScope(name="the building", audience="public")
    results: dict[str, Any] = {"backend": backend, "rows": rows, "seed_seconds": round(seed_seconds, 1)}
    operations: dict[str, Any] = {}

    async def service_runs() -> tuple[list[float], list[float], list[float], bytes, str]:
        engine = create_engine(settings)
        maker = create_sessionmaker(engine)
        try:
            builds: list[float] = []
            body = b""
            for _ in range(1 + BUILD_RUNS):
                async with maker() as db:  # a new session each time: nothing cached in the identity map
                    started = time.perf_counter()
                    body = await build_feed(
                        db, settings, scope, window, hub_name=settings.hub_name, host="bench"
                    )
                    builds.append((time.perf_counter() - started) * 1000)
            versions: list[float] = []
            etag = ""
            for _ in range(VERSION_RUNS):
                async with maker() as db:
                    started = time.perf_counter()
                    etag = (await feed_version(db, scope, window, settings)).etag
                    versions.append((time.perf_counter() - started) * 1000)
            return builds[:1], builds[1:], versions, body, etag
        finally:
            await engine.dispose()

    first, builds, versions, body, _ = asyncio.run(service_runs())
    operations["build_feed (first in the process)"] = summary(first, "includes working out the VTIMEZONE")
    operations["build_feed (cold)"] = summary(builds, "new session each time, never from cached bytes")
    operations["feed_version (ETag)"] = summary(versions)

    params = {"from": window.start.isoformat(), "to": window.end.isoformat()}
    with TestClient(create_app(settings)) as client:
        full_samples: list[float] = []
        response = None
        for _ in range(HTTP_FULL_RUNS):
            feed_bodies.clear()  # as after a change: nothing built yet for the current ETag
            started = time.perf_counter()
            response = client.get("/feeds/building.ics", params=params)
            full_samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
        assert response is not None
        etag = response.headers["etag"]
        http_body = response.content

        def cached() -> None:
            answer = client.get("/feeds/building.ics", params=params)
            assert answer.status_code == 200 and answer.content == http_body, answer.status_code

        def conditional() -> None:
            answer = client.get("/feeds/building.ics", params=params, headers={"If-None-Match": etag})
            assert answer.status_code == 304, answer.status_code

        conditional()  # warm
        operations["HTTP GET 200 (first after a change: builds)"] = summary(full_samples)
        operations["HTTP GET 200 (from the bytes built once)"] = summary(timed(HTTP_CACHED_RUNS, cached))
        operations["HTTP GET 304 (If-None-Match)"] = summary(timed(HTTP_304_RUNS, conditional))

    # The floor: the same live occurrences read as plain columns in one query and written as one
    # f-string VEVENT each (UTC times, the public face, escaped), joined. No RRULE, no VTIMEZONE.
    async def string_join(db: Any) -> bytes:
        zone_start, zone_end = window.bounds(settings.zone)
        rooms = {room_id: name for room_id, name in await db.execute(select(Room.id, Room.name))}
        rows = await db.execute(
            select(
                Booking.id,
                Booking.start_at,
                Booking.end_at,
                Booking.title,
                Booking.public_title,
                Booking.visibility,
                Booking.room_id,
                Booking.sequence,
                Booking.updated_at,
            ).where(
                Booking.start_at < zone_end, Booking.end_at > zone_start, Booking.status.in_(LIVE_STATUSES)
            )
        )
        stamp = "%Y%m%dT%H%M%SZ"
        parts = ["BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Bench//join//EN"]
        for booking_id, start, end, title, public_title, visibility, room_id, sequence, updated in rows:
            summary_text = "Private booking" if visibility == "private" else (public_title or title)
            parts.append(
                f"BEGIN:VEVENT\r\nUID:booking-{booking_id}@bench\r\nSEQUENCE:{sequence}\r\n"
                f"DTSTAMP:{updated.strftime(stamp)}\r\nDTSTART:{start.strftime(stamp)}\r\n"
                f"DTEND:{end.strftime(stamp)}\r\nSUMMARY:{escape(summary_text)}\r\n"
                f"LOCATION:{escape(rooms[room_id])}\r\nEND:VEVENT"
            )
        parts.append("END:VCALENDAR\r\n")
        return "\r\n".join(parts).encode()

    async def join_runs() -> tuple[list[float], bytes]:
        engine = create_engine(settings)
        maker = create_sessionmaker(engine)
        samples: list[float] = []
        out = b""
        try:
            for _ in range(JOIN_RUNS):
                async with maker() as db:
                    started = time.perf_counter()
                    out = await string_join(db)
                    samples.append((time.perf_counter() - started) * 1000)
        finally:
            await engine.dispose()
        return samples, out

    join_samples, join_body = asyncio.run(join_runs())
    operations["string-join serialiser (one VEVENT per occurrence)"] = summary(join_samples, "query included")

    # The naive baseline: the same occurrences (as the feed shows them: public titles, private ones
    # as "Private booking"), one icalendar Event each, UTC times, no RRULE.
    async def occurrences(db: Any) -> list[tuple[Booking, str]]:
        zone_start, zone_end = window.bounds(settings.zone)
        rooms = {r.id: r.name for r in await db.scalars(select(Room))}
        found = await db.scalars(
            select(Booking).where(
                Booking.start_at < zone_end, Booking.end_at > zone_start, Booking.status.in_(LIVE_STATUSES)
            )
        )
        return [(b, rooms[b.room_id]) for b in found]

    live = asyncio.run(_in_session(settings, occurrences))

    def naive() -> bytes:
        calendar = icalendar.Calendar()
        calendar.add("prodid", "-//Bench//naive//EN")
        calendar.add("version", "2.0")
        stamp = datetime.now(UTC)
        for booking, room in live:
            event = icalendar.Event()
            event.add("uid", f"booking-{booking.id}@bench")
            event.add("dtstamp", stamp)
            event.add("dtstart", booking.start_at.astimezone(UTC))
            event.add("dtend", booking.end_at.astimezone(UTC))
            private = booking.visibility == "private"
            event.add("summary", "Private booking" if private else (booking.public_title or booking.title))
            event.add("location", room)
            event.add("sequence", booking.sequence)
            event.add("last-modified", booking.updated_at)
            calendar.add_component(event)
        data: bytes = calendar.to_ical()
        return data

    naive_body = b""

    def naive_run() -> None:
        nonlocal naive_body
        naive_body = naive()

    operations["naive icalendar (one VEVENT per occurrence)"] = summary(timed(NAIVE_RUNS, naive_run))
    results["operations"] = operations
    results["feed"] = {
        "bytes": len(body),
        "vevents": body.count(b"BEGIN:VEVENT"),
        "http_bytes": len(http_body),
        "occurrences_live": len(live),
    }
    results["naive"] = {"bytes": len(naive_body), "vevents": naive_body.count(b"BEGIN:VEVENT")}
    results["string_join"] = {"bytes": len(join_body), "vevents": join_body.count(b"BEGIN:VEVENT")}
    build = operations["build_feed (cold)"]["median_ms"]
    join = operations["string-join serialiser (one VEVENT per occurrence)"]["median_ms"]
    from_bytes = operations["HTTP GET 200 (from the bytes built once)"]["median_ms"]
    results["ratios"] = {
        "build_feed (cold) / string-join": round(build / join, 3),
        "build_feed (cold) / naive": round(
            build / operations["naive icalendar (one VEVENT per occurrence)"]["median_ms"], 3
        ),
        "feed_version / build_feed": round(operations["feed_version (ETag)"]["median_ms"] / build, 4),
        "HTTP 200 from bytes / HTTP 200 building": round(
            from_bytes / operations["HTTP GET 200 (first after a change: builds)"]["median_ms"], 4
        ),
    }
    results["targets"] = {
        "build_feed (cold) <= 300 ms": build <= 300,
        "build_feed (cold) <= 2x string-join": build <= 2 * join,
        "HTTP GET 200 from bytes <= 20 ms": from_bytes <= 20,
    }
    results["python"] = platform.python_version()
    results["platform"] = platform.platform()
    results["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    return results


def print_table(results: dict[str, Any]) -> None:
    print(
        f"\n{results['backend']}: {results['rows']} booking rows ({results['feed']['occurrences_live']} live "
        f"occurrences), seeded in {results['seed_seconds']} s"
    )
    print(
        f"  our feed: {results['feed']['vevents']} VEVENTs, {results['feed']['bytes']:,} bytes;  "
        f"naive: {results['naive']['vevents']} VEVENTs, {results['naive']['bytes']:,} bytes"
    )
    print(f"  {'operation':48} {'n':>4} {'median ms':>11} {'min ms':>9} {'max ms':>9}")
    for name, row in results["operations"].items():
        print(
            f"  {name:48} {row['n']:>4} {row['median_ms']:>11.2f} {row['min_ms']:>9.2f} {row['max_ms']:>9.2f}"
        )
    for name, value in results["ratios"].items():
        print(f"  ratio {name:42} {value}")
    for name, met in results["targets"].items():
        print(f"  target {name:41} {'met' if met else 'MISSED'}")


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite+aiosqlite:///{folder}/feeds.sqlite3"


@contextmanager
def postgres_url(server_url: str) -> Iterator[str]:
    import asyncpg

    plain = server_url.replace("postgresql+asyncpg://", "postgresql://").replace(
        "postgres://", "postgresql://"
    )
    base = plain.rpartition("/")[0]
    name = f"hub_bench_feeds_{uuid.uuid4().hex[:10]}"

    async def execute(statement: str) -> None:
        conn = await asyncpg.connect(f"{base}/postgres")
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://{base.removeprefix('postgresql://')}/{name}"
    finally:
        asyncio.run(execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    from hub import migrations

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres-url", default=os.environ.get("HUB_BENCH_POSTGRES_URL", ""))
    args = parser.parse_args()
    backends: list[tuple[str, Callable[[], Any]]] = [("sqlite", sqlite_url)]
    if args.postgres_url:
        backends.append(("postgresql", lambda: postgres_url(args.postgres_url)))
    RESULTS.mkdir(parents=True, exist_ok=True)
    for backend, database in backends:
        with database() as url:
            settings = bench_settings(url)
            migrations.upgrade(settings)
            results = measure(settings, backend)
        print_table(results)
        path = RESULTS / f"feeds-{backend}.json"
        path.write_text(json.dumps(results, indent=2) + "\n")
        print(f"  wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
