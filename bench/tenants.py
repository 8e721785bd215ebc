"""Benchmark: does what the monthly billing run costs per agreement grow with tenants' history?

For 20 and 500 agreements (one tenant organisation each; two in three monthly, one in three
quarterly; half with a service charge; one in five with a discount), a fresh database is migrated
and given three years of history in bulk, written as the billing hook writes it: for every period
from January 2024 to December 2026 a ``tenant_charge_periods`` row and its (invoiced) charge with
the hook's source key. Then the real billing run (``hub.billing.services.invoices.billing_run``
with the app's registry, so tenants' ``billing.periodic_charges`` posts first and every
organisation's new charges are invoiced) is timed for each month January to June 2027, in the
bench's process against the same database. The figure is the run's time divided by the number of
agreements; the target is a 500 ÷ 20 ratio of per-agreement medians of at most 1.5. A repeated
run of the last month (nothing left to charge) is timed too.

The floor is ``GET /healthz`` over HTTP from the same app served by uvicorn in its own process on
the same database, measured in the same run (before and after the billing runs).

    .venv/bin/python bench/tenants.py --backend sqlite
    HUB_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/tenants.py --backend postgresql

Results go to bench/results/tenants-<backend>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
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
SIZES = tuple(int(s) for s in os.environ.get("HUB_BENCH_TENANT_SIZES", "20,500").split(","))
MONTHS = ["2027-01", "2027-02", "2027-03", "2027-04", "2027-05", "2027-06"]
HISTORY_FIRST = date(2024, 1, 1)
HISTORY_LAST = date(2026, 12, 31)
RATIO_LIMIT = 1.5
FLOOR_SAMPLES = 300


def bench_settings(database_url: str) -> Settings:
    settings = load_settings(
        {
            "HUB_ENV": "test",
            "HUB_DATABASE_URL": database_url,
            "HUB_SUPPLIER_ADDRESS": "Bench Community Hub;1 Harbour Street;Fleetwood;FY7 6BE",
            "HUB_SECRET_KEY": SECRET,
        }
    )
    return replace(settings, secret_key=SECRET)


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


async def _seed(settings: Settings, size: int) -> dict[str, Any]:
    from sqlalchemy import insert, select

    from hub.billing.models import Charge
    from hub.db import create_engine, create_sessionmaker, writer
    from hub.models import Organisation
    from tenants.models import Agreement, TenantChargePeriod
    from tenants.services import billing, schedule

    started = time.perf_counter()
    engine = create_engine(settings)
    now = datetime.now(UTC)
    try:
        async with create_sessionmaker(writer(engine))() as db:
            await db.execute(
                insert(Organisation),
                [
                    {
                        "name": f"Bench Tenant {i:04d}",
                        "name_key": f"bench tenant {i:04d}",
                        "kind": "vcse",
                        "default_rate_band": "tenant",
                        "active": True,
                        "address_line1": "1 Harbour Street",
                        "town": "Fleetwood",
                        "postcode": "FY7 6BE",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(size)
                ],
            )
            org_ids = list(await db.scalars(select(Organisation.id).order_by(Organisation.id)))
            agreements = []
            for i, org_id in enumerate(org_ids):
                quarterly = i % 3 == 2
                agreements.append(
                    {
                        "reference": f"AGR-{i + 1:04d}",
                        "organisation_id": org_id,
                        "kind": "licence",
                        "status": "active",
                        "start_date": date(2023, 12, 25) if quarterly else HISTORY_FIRST,
                        "end_date": None,
                        "notice_months": 3,
                        "rent_pence_per_year": 600_000 + 1_200 * i,
                        "service_charge_pence_per_year": 120_000 if i % 2 == 0 else 0,
                        "frequency": "quarterly" if quarterly else "monthly",
                        "discount_bp": 1_000 if i % 5 == 0 else 0,
                        "discount_reason": "Registered charity" if i % 5 == 0 else None,
                        "deposit_pence": 0,
                        "deposit_kept_pence": 0,
                        "permitted_use": "Offices",
                        "included_minutes_per_month": 0,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            await db.execute(insert(Agreement), agreements)
            rows = (await db.execute(select(Agreement).order_by(Agreement.id))).scalars()
            charges: list[dict[str, Any]] = []
            periods: list[dict[str, Any]] = []
            for agreement in rows:
                terms = schedule.terms_of(agreement, reviews=())
                month = HISTORY_FIRST.replace(month=1) - timedelta(days=7)
                month = month.replace(day=1)
                while month <= HISTORY_LAST:
                    last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
                    for charge in schedule.charges_for_month(terms, month, last):
                        key = billing.source_key(agreement.id, charge.kind, charge.period.start)
                        charges.append(
                            {
                                "organisation_id": agreement.organisation_id,
                                "description": charge.description,
                                "quantity": 1,
                                "supply_date": charge.bill_on,
                                "net_pence": charge.amount_pence,
                                "vat_rate_bp": 0,
                                "vat_pence": 0,
                                "stream": billing.STREAMS[charge.kind],
                                "source_type": billing.SOURCE_TYPE,
                                "source_id": str(agreement.id),
                                "source_key": key,
                                "status": "invoiced",
                                "created_at": now,
                                "cancel_reason": "",
                            }
                        )
                        periods.append(
                            {
                                "agreement_id": agreement.id,
                                "kind": charge.kind,
                                "period_start": charge.period.start,
                                "period_end": charge.period.end,
                                "amount_pence": charge.amount_pence,
                                "created_at": now,
                            }
                        )
                    month = last + timedelta(days=1)
            for start in range(0, len(charges), 2_000):
                await db.execute(insert(Charge), charges[start : start + 2_000])
            for start in range(0, len(periods), 2_000):
                await db.execute(insert(TenantChargePeriod), periods[start : start + 2_000])
            await db.commit()
    finally:
        await engine.dispose()
    return {
        "agreements": size,
        "history_periods": len(periods),
        "seconds": round(time.perf_counter() - started, 1),
    }


async def _runs(settings: Settings) -> tuple[list[float], float, int]:
    from hub.app import default_registry
    from hub.auth import Identity
    from hub.billing.services import invoices
    from hub.db import create_engine, create_sessionmaker, writer

    registry = default_registry()
    engine = create_engine(settings)
    seconds: list[float] = []
    invoiced = 0
    try:
        maker = create_sessionmaker(writer(engine))
        for month in MONTHS:
            async with maker() as db:
                started = time.perf_counter()
                result = await invoices.billing_run(
                    db, settings, Identity.system("bench"), month, registry=registry
                )
                seconds.append(time.perf_counter() - started)
                invoiced += len(result.invoices)
        async with maker() as db:
            started = time.perf_counter()
            await invoices.billing_run(db, settings, Identity.system("bench"), MONTHS[-1], registry=registry)
            repeat = time.perf_counter() - started
    finally:
        await engine.dispose()
    return seconds, repeat, invoiced


def floor(base: str, samples: int) -> Stat:
    stat = Stat("floor /healthz")
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(20):
            client.get("/healthz")
        for _ in range(samples):
            started = time.perf_counter()
            response = client.get("/healthz")
            stat.samples_ms.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    return stat


def run_backend(backend: str, make_url: Callable[[int], Iterator[str]]) -> dict[str, Any]:
    from hub import migrations

    sizes: dict[str, Any] = {}
    for size in SIZES:
        for url in make_url(size):
            settings = bench_settings(url)
            migrations.upgrade(settings)
            seeded = asyncio.run(_seed(settings, size))
            print(
                f"{backend} {size}: seeded {seeded['history_periods']} periods in {seeded['seconds']} s",
                flush=True,
            )
            with (
                tempfile.TemporaryDirectory() as logs,
                Server(str(Path(__file__).resolve()), url, Path(logs) / "server.log") as server,
            ):
                before = floor(server.base, FLOOR_SAMPLES)
                seconds, repeat, invoiced = asyncio.run(_runs(settings))
                after = floor(server.base, FLOOR_SAMPLES)
            per_agreement_ms = [s * 1000 / size for s in seconds]
            floor_ms = statistics.median(before.samples_ms + after.samples_ms)
            sizes[str(size)] = {
                "seed": seeded,
                "run_seconds": [round(s, 3) for s in seconds],
                "per_agreement_ms": [round(x, 3) for x in per_agreement_ms],
                "per_agreement_median_ms": round(statistics.median(per_agreement_ms), 3),
                "repeat_run_seconds": round(repeat, 3),
                "invoices_made": invoiced,
                "floor_median_ms": round(floor_ms, 3),
                "per_agreement_in_floors": round(statistics.median(per_agreement_ms) / floor_ms, 2),
            }
            print(f"{backend} {size}: {json.dumps(sizes[str(size)])}", flush=True)
    small, big = sizes[str(SIZES[0])], sizes[str(SIZES[-1])]
    ratio = big["per_agreement_median_ms"] / small["per_agreement_median_ms"]
    return {
        "backend": backend,
        "sizes": sizes,
        "ratio_per_agreement_median": round(ratio, 2),
        "target": RATIO_LIMIT,
        "ok": ratio <= RATIO_LIMIT,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--postgres-url", default=os.environ.get("HUB_BENCH_POSTGRES_URL", ""))
    parser.add_argument("--serve", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    backends: list[tuple[str, Callable[[int], Iterator[str]]]] = []
    if args.backend in ("sqlite", "all"):
        backends.append(("sqlite", sqlite_urls("hub-bench-tenants")))
    if args.backend in ("postgresql", "all"):
        if args.postgres_url:
            backends.append(("postgresql", postgres_urls(args.postgres_url, "hub_bench_tenants")))
        elif args.backend == "postgresql":
            parser.error("give --postgres-url or set HUB_BENCH_POSTGRES_URL")
    RESULTS.mkdir(parents=True, exist_ok=True)
    for backend, make_url in backends:
        load_before = [round(x, 2) for x in os.getloadavg()]
        started = time.perf_counter()
        results = run_backend(backend, make_url)
        results["environment"] = environment() | {"load_average_before": load_before}
        results["seconds"] = round(time.perf_counter() - started, 1)
        path = RESULTS / f"tenants-{backend}.json"
        path.write_text(json.dumps(results, indent=2) + "\n")
        print(
            f"{backend}: per-agreement median 500 ÷ 20 = {results['ratio_per_agreement_median']} "
            f"(target ≤ {RATIO_LIMIT}); results in {path.relative_to(ROOT)}"
        )


if __name__ == "__main__":
    main()
