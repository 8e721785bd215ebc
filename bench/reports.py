"""Benchmark: every trustee report on three years of history at ten times the demo hub's scale.

The demo hub (``hubkeeper demo``) is seeded first (its rooms, categories, people and its own few
months); then, in bulk, three years back from today at ten times the demo's weekly rate: the
demo books about 12 sessions a week over 12 rooms, so 120 bookings a week (≈ 19,000 in all: 90%
confirmed, 4% no-shows, 6% cancelled, a third of those late; half checked in with a head-count,
a few across midnight), 140 organisations (the demo's 14, ten times), and about 40 invoices a
month (≈ 1,450: two lines each, room hire and other income, some at 20% VAT) with their balanced
ledger journals, every other one paid. The real app is served by uvicorn in a separate process
and each report is fetched over HTTP by a trustee's API token, for the current financial year
and for the whole three years (custom dates), beside ``/healthz`` (the floor) in the same run.
Target: every report under one second.

    .venv/bin/python bench/reports.py            # SQLite (+ PostgreSQL if HUB_BENCH_POSTGRES_URL)
    .venv/bin/python bench/reports.py --quick    # a tenth of the history, fewer repetitions
    HUB_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/reports.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import replace
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

WEEKS = 156
BOOKINGS_PER_WEEK = 120
ORGANISATIONS = 140
INVOICES_PER_MONTH = 40
CATEGORIES = ["clinic", "therapy", "class", "youth", "meeting", "event", "food_bank", "training", "other"]
BANDS = ["community", "community", "statutory", "commercial"]
KINDS = ["vcse", "community_group", "nhs", "statutory", "commercial", "individual"]


def bench_settings(database_url: str) -> Settings:
    settings = load_settings({"HUB_ENV": "development", "HUB_DATABASE_URL": database_url})
    return replace(settings, secret_key="bench-secret-key-that-is-long-enough-0123456789")


async def _seed(settings: Settings, scale: float) -> dict[str, Any]:
    from sqlalchemy import func, insert, select

    from hub.app import seed_demo
    from hub.auth import Identity
    from hub.billing.models import Invoice, InvoiceLine, LedgerEntry
    from hub.db import create_engine
    from hub.models import Organisation, Role, User
    from hub.services import accounts
    from rooms.models import Booking, Room

    started = time.perf_counter()
    rng = random.Random(15)
    engine = create_engine(settings)
    from sqlalchemy.ext.asyncio import async_sessionmaker

    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as db:
        await seed_demo(db, settings)
    today = settings.today()
    now = datetime.now(UTC)
    async with sessions() as db:
        existing = int(await db.scalar(select(func.count()).select_from(Organisation)) or 0)
        await db.execute(
            insert(Organisation),
            [
                {
                    "name": f"Bench group {i}",
                    "name_key": f"bench group {i}",
                    "kind": KINDS[i % len(KINDS)],
                    "default_rate_band": BANDS[i % len(BANDS)],
                    "created_at": now,
                    "updated_at": now,
                    "active": True,
                }
                for i in range(max(0, ORGANISATIONS - existing))
            ],
        )
        orgs = list(await db.scalars(select(Organisation.id)))
        rooms = list(await db.scalars(select(Room.id).where(Room.bookable.is_(True))))
        weeks = max(1, int(WEEKS * scale)) if scale < 1 else WEEKS
        per_week = BOOKINGS_PER_WEEK if scale >= 1 else max(12, int(BOOKINGS_PER_WEEK * scale * 10))
        zone = settings.zone
        first_day = today - timedelta(weeks=weeks)
        rows = []
        for week in range(weeks):
            monday = first_day + timedelta(days=7 * week - first_day.weekday())
            for _ in range(per_week):
                day = monday + timedelta(days=rng.randrange(6))
                hour = rng.randrange(8, 21)
                length = (
                    rng.choice([1, 1, 2, 2, 3, 4]) if hour < 20 else rng.choice([1, 2, 5])
                )  # some past midnight
                start = datetime.combine(day, clock(hour), tzinfo=zone).astimezone(UTC)
                end = start + timedelta(hours=length)
                roll = rng.random()
                status = "cancelled" if roll < 0.06 else "confirmed"
                band = rng.choice(BANDS)
                hourly = {"community": 1_200, "statutory": 2_500, "commercial": 4_000}[band]
                checked = status == "confirmed" and rng.random() < 0.5 and start < now
                rows.append(
                    {
                        "room_id": rng.choice(rooms),
                        "organisation_id": rng.choice(orgs),
                        "title": "Bench session",
                        "public_title": "",
                        "category": rng.choice(CATEGORIES),
                        "visibility": "public",
                        "status": status,
                        "start_at": start,
                        "end_at": end,
                        "rate_band": band,
                        "price_net_pence": 0 if rng.random() < 0.08 else hourly * length,
                        "no_show": status == "confirmed" and 0.06 <= roll < 0.10,
                        "cancelled_at": start - timedelta(hours=rng.choice([2, 24, 100, 300]))
                        if status == "cancelled"
                        else None,
                        "checked_in_at": start if checked else None,
                        "attendance": rng.randrange(3, 40) if checked else None,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        for chunk in range(0, len(rows), 2_000):
            await db.execute(insert(Booking), rows[chunk : chunk + 2_000])
        await db.commit()
        bookings = len(rows)

        # Money: invoices with two lines each and the journals ledger.post_document would write.
        months = max(1, weeks * 7 // 30)
        number = 100_000
        invoices = lines = entries = 0
        for month in range(months):
            issued = first_day + timedelta(days=30 * month + 3)
            for _ in range(
                INVOICES_PER_MONTH if scale >= 1 else max(4, int(INVOICES_PER_MONTH * scale * 10))
            ):
                number += 1
                org = rng.choice(orgs)
                hire = rng.choice([2_400, 3_600, 12_000])
                other, vat_bp = rng.choice([(0, 0), (2_500, 2_000), (1_000, 0)])
                other_vat = (other * vat_bp + 5_000) // 10_000
                gross = hire + other + other_vat
                paid = gross if number % 2 == 0 else 0
                invoice_id = (
                    await db.execute(
                        insert(Invoice).returning(Invoice.id),
                        [
                            {
                                "kind": "invoice",
                                "status": "paid" if paid else "issued",
                                "series_prefix": "INV",
                                "number": number,
                                "number_text": f"INV-{number:06d}",
                                "organisation_id": org,
                                "customer_name": f"Organisation {org}",
                                "supplier_name": "Bench hub",
                                "issue_date": issued,
                                "tax_point": issued,
                                "due_date": issued + timedelta(days=30),
                                "payment_terms_days": 30,
                                "net_pence": hire + other,
                                "vat_pence": other_vat,
                                "gross_pence": gross,
                                "paid_pence": paid,
                                "credited_pence": 0,
                                "created_at": now,
                                "issued_at": now,
                            }
                        ],
                    )
                ).scalar_one()
                invoices += 1
                line_rows = [
                    {
                        "invoice_id": invoice_id,
                        "position": 1,
                        "description": "Room hire",
                        "quantity": 1,
                        "supply_date": issued,
                        "net_pence": hire,
                        "vat_rate_bp": 0,
                        "vat_pence": 0,
                        "gross_pence": hire,
                        "stream": "room_hire",
                    }
                ]
                journal = f"invoice:{invoice_id}"
                common = {
                    "journal": journal,
                    "posted_at": now,
                    "entry_date": issued,
                    "organisation_id": org,
                    "invoice_id": invoice_id,
                    "source_type": "invoice",
                    "source_id": str(invoice_id),
                    "description": "bench",
                }
                ledger = [
                    {
                        **common,
                        "account": "debtors",
                        "amount_pence": gross,
                        "stream": None,
                        "vat_rate_bp": None,
                    },
                    {
                        **common,
                        "account": "income",
                        "amount_pence": -hire,
                        "stream": "room_hire",
                        "vat_rate_bp": 0,
                    },
                ]
                if other:
                    line_rows.append(
                        {
                            "invoice_id": invoice_id,
                            "position": 2,
                            "description": "Other",
                            "quantity": 1,
                            "supply_date": issued,
                            "net_pence": other,
                            "vat_rate_bp": vat_bp,
                            "vat_pence": other_vat,
                            "gross_pence": other + other_vat,
                            "stream": "other",
                        }
                    )
                    ledger.append(
                        {
                            **common,
                            "account": "income",
                            "amount_pence": -other,
                            "stream": "other",
                            "vat_rate_bp": vat_bp,
                        }
                    )
                    if other_vat:
                        ledger.append(
                            {
                                **common,
                                "account": "vat",
                                "amount_pence": -other_vat,
                                "stream": "other",
                                "vat_rate_bp": vat_bp,
                            }
                        )
                await db.execute(insert(InvoiceLine), line_rows)
                await db.execute(insert(LedgerEntry), ledger)
                lines += len(line_rows)
                entries += len(ledger)
        await db.commit()
        trustee = await db.scalar(select(User).where(User.role == Role.TRUSTEE.value))
        assert trustee is not None
        identity = Identity(
            user_id=trustee.id,
            email=trustee.email,
            name=trustee.name,
            role=Role.TRUSTEE,
            organisation_id=None,
            via="system",
        )
        token, _ = await accounts.create_token(db, settings, identity, "bench")
        total_bookings = int(await db.scalar(select(func.count()).select_from(Booking)) or 0)
        total_entries = int(await db.scalar(select(func.count()).select_from(LedgerEntry)) or 0)
    await engine.dispose()
    return {
        "token": token,
        "seconds": round(time.perf_counter() - started, 1),
        "bookings": total_bookings,
        "bench_bookings": bookings,
        "invoices": invoices,
        "ledger_entries": total_entries,
        "organisations": len(orgs),
        "weeks": weeks,
    }


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


def measure(base: str, token: str, today: date, first: date, repeats: int) -> dict[str, Stat]:
    headers = {"Authorization": f"Bearer {token}"}
    whole = f"period=custom&from={first.isoformat()}&to={today.isoformat()}"
    targets = [("floor /healthz", "/healthz")]
    for name in ("income", "debtors", "utilisation", "impact", "cafe"):
        targets.append((f"api {name} (this FY)", f"/api/v1/reports/{name}"))
        if name != "debtors":
            targets.append((f"api {name} (3 years)", f"/api/v1/reports/{name}?{whole}"))
    targets += [
        ("page dashboard (this FY)", "/reports"),
        ("page dashboard (3 years)", f"/reports?{whole}"),
        ("page utilisation (3 years)", f"/reports/utilisation?{whole}"),
        ("csv room-months (3 years)", f"/reports/utilisation/room-months.csv?{whole}"),
        ("board pack (this FY)", "/reports/board-pack"),
        ("board pack PDF (this FY)", "/reports/board-pack.pdf"),
    ]
    stats = {name: Stat(name) for name, _ in targets}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for _name, path in targets:  # warm up, and prove each answers
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path} -> {response.status_code}: {response.text[:300]}")
        for _ in range(repeats):
            for name, path in targets:  # interleaved, so load on the machine hits every target alike
                started = time.perf_counter()
                response = client.get(path)
                stats[name].samples_ms.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
    return stats


def run_backend(backend: str, url: str, scale: float, repeats: int) -> dict[str, Any]:
    from hub import migrations

    settings = bench_settings(url)
    print(f"[{backend}] migrating and seeding ...", flush=True)
    migrations.upgrade(settings)
    seeded = asyncio.run(_seed(settings, scale))
    print(
        f"[{backend}] seeded in {seeded['seconds']}s: {seeded['bookings']:,} bookings, "
        f"{seeded['invoices']:,} invoices, "
        f"{seeded['ledger_entries']:,} ledger entries, {seeded['organisations']} organisations",
        flush=True,
    )
    today = settings.today()
    first = today - timedelta(weeks=seeded["weeks"])
    with tempfile.TemporaryDirectory() as logs, Server(__file__, url, Path(logs) / "server.log") as server:
        stats = measure(server.base, seeded["token"], today, first, repeats)
    floor = stats["floor /healthz"].median
    print(f"\n[{backend}] {'operation':32} {'median ms':>10} {'p95 ms':>9} {'x floor':>9}")
    for stat in stats.values():
        print(f"[{backend}] {stat.name:32} {stat.median:10.1f} {stat.p95:9.1f} {stat.median / floor:9.1f}")
    slow = [s.name for s in stats.values() if s.p95 >= 1000]
    print(
        f"[{backend}] every report under one second (p95): "
        f"{'yes' if not slow else 'NO: ' + ', '.join(slow)}\n"
    )
    return {
        "backend": backend,
        "history": {k: v for k, v in seeded.items() if k != "token"},
        "operations": {name: stat.as_json() for name, stat in stats.items()},
        "under_one_second": not slow,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--serve", metavar="URL")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    scale, repeats = (0.1, 5) if args.quick else (1.0, 15)
    results: dict[str, Any] = {"environment": environment(), "scale": scale, "runs": []}
    for url in sqlite_urls("hub-bench-reports")(0):
        results["runs"].append(run_backend("sqlite", url, scale, repeats))
    pg = os.environ.get("HUB_BENCH_POSTGRES_URL", "").strip()
    if pg and not args.sqlite_only:
        for url in postgres_urls(pg, "hub_bench_reports")(0):
            results["runs"].append(run_backend("postgresql", url, scale, repeats))
    out = ROOT / "bench" / "results" / ("reports-quick.json" if args.quick else "reports.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
