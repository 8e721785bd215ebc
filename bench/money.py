"""Benchmark: does what one invoice or payment costs grow with the hub's money history?

For each history size (500 and 20,000 issued invoices) a fresh database is migrated and filled
in bulk with a consistent money history, written row for row as the services would write it:
300 organisations invoiced over about two years (one to three charges per invoice, some with
VAT), every other invoice paid in full by BACS (payment, allocation, paid status), one in fifty
credited in full by a credit note, invoice and credit-note numbers gap-free in date order (the
series rows say so), and the balanced journals ledger.post_document and ledger.post_payment
would have posted. Ten probe organisations get the same small history at every size (twelve
invoices over two years, the oldest eight paid), so that a ratio compares the cost of the hub's
history, not of a busier account. The history is proved consistent by GET /api/v1/ledger/check
before anything is measured (the run stops if it is not). The real app is then served by
uvicorn in a separate process and measured over HTTP:

  charge+invoice  POST /api/v1/charges (a manual charge) then POST /api/v1/invoices for that
                  organisation (issued: takes the next number, writes the ledger); the pair
  payment         POST /api/v1/payments, BACS, today, for exactly what the organisation's oldest
                  open invoice owes (auto-allocated there; the answer is checked)
  invoice x10     ten POST /api/v1/invoices at once (asyncio) for ten organisations with an open
                  charge each, per-batch wall time; the ten numbers must be distinct and consecutive
  invoice list    GET /api/v1/invoices?overdue=true&per_page=50
  aged debt       GET /api/v1/aged-debt (every debtor: grows with the open invoices, by design)
  statement       GET /api/v1/organisations/{id}/statement for a probe organisation
  statement (big) the same for a history organisation, whose own history grows with the hub's
  ledger check    GET /api/v1/ledger/check (reconciles everything: grows with the history)
  floor           GET /healthz: a bare endpoint through the same stack

It prints a table, the 20k/500 ratio of each operation (at most 1.5 is the target, except for
the whole-history reports), each operation as a multiple of the floor and the ledger check's
time per document, and writes bench/results/money-<backend>.json.

    .venv/bin/python bench/money.py            # SQLite (+ PostgreSQL if HUB_BENCH_POSTGRES_URL)
    .venv/bin/python bench/money.py --quick    # 100 and 2,000 invoices, fewer repetitions
    HUB_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/money.py
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
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
SUPPLIER_ADDRESS = "Bench Community Hub;1 Harbour Street;Fleetwood;FY7 6BE"
ADMIN_EMAIL = "finance@bench.test"
ADMIN_PASSWORD = "bench-finance-password"
ORGANISATIONS = 300  # the history is spread round-robin over these ...
PROBE_ORGANISATIONS = 10  # ... and these ten have the same small history at every size
PROBE_INVOICES = 12  # each: twelve invoices over two years ...
PROBE_PAID = 8  # ... the oldest eight paid in full, the newest four open (all overdue)
HISTORY_DAYS = 730  # issue dates spread over the two years before today
PAID_EVERY = 2  # every other history invoice is paid in full by BACS
CREDIT_EVERY = 50  # one in fifty is credited in full (among the unpaid ones)
STREAMS = ("room_hire", "rent", "service_charge", "other")
KINDS = ("vcse", "community_group", "commercial", "statutory", "nhs", "individual")
RATIO_LIMIT = 1.5
# Whole-history or whole-debtor reports: their ratio is reported, not held to the target.
SCALES_WITH_HISTORY = {
    "aged debt": "every open invoice (all debtors)",
    "ledger check": "every document, line, payment, allocation and ledger entry",
    "statement (big)": "the organisation's own history (size ÷ 300 invoices)",
}
FLOOR = "floor /healthz"


@dataclass
class Counts:
    charge_invoice: int = 200
    payment: int = 200
    batch_rounds: int = 20
    invoice_list: int = 100
    aged_debt: int = 30
    statement: int = 100
    ledger_check: int = 1  # the proof after seeding; minutes each at 20k
    floor: int = 500
    warmup: int = 10

    @classmethod
    def quick(cls) -> Counts:
        return cls(
            charge_invoice=40,
            payment=40,
            batch_rounds=5,
            invoice_list=20,
            aged_debt=10,
            statement=20,
            ledger_check=3,
            floor=100,
            warmup=5,
        )


def bench_settings(database_url: str) -> Settings:
    settings = load_settings(
        {
            "HUB_ENV": "test",
            "HUB_DATABASE_URL": database_url,
            "HUB_SUPPLIER_ADDRESS": SUPPLIER_ADDRESS,
            "HUB_SECRET_KEY": SECRET,
        }
    )
    return replace(settings, secret_key=SECRET)


# --- making the database --------------------------------------------------------------------------


@dataclass
class Seeded:
    token: str
    today: date
    probes: list[int]  # the probe organisations' ids
    big: int  # a history organisation (for "statement (big)")
    # Each probe organisation's open invoices, oldest due first: [invoice id, outstanding pence].
    open_invoices: dict[int, list[list[int]]]
    invoices: int
    credit_notes: int
    payments: int
    ledger_entries: int
    seconds: float


@dataclass
class _Spec:
    """One issued invoice of the history, before it is given its id and number."""

    organisation: int
    issued: date
    lines: list[tuple[int, int, str]]  # net pence, VAT rate (basis points), stream
    paid_on: date | None
    credited_on: date | None


class _Ids:
    def __init__(self) -> None:
        self.last: dict[str, int] = {}

    def __call__(self, table: str) -> int:
        self.last[table] = self.last.get(table, 0) + 1
        return self.last[table]


def _history(size: int, today: date, history_orgs: list[int], probe_orgs: list[int]) -> list[_Spec]:
    specs: list[_Spec] = []
    first = today - timedelta(days=HISTORY_DAYS)
    for i in range(size):
        issued = first + timedelta(days=i * (HISTORY_DAYS - 1) // max(size, 1))
        lines = []
        for j in range(1 + i % 3):
            net = 1_000 + (i * 37 + j * 1_013) % 40_000
            rate = 2_000 if (i + j) % 4 == 0 else 0
            lines.append((net, rate, STREAMS[(i + j) % len(STREAMS)]))
        paid = i % PAID_EVERY == 0
        credited = not paid and i % CREDIT_EVERY == 1
        specs.append(
            _Spec(
                organisation=history_orgs[i % len(history_orgs)],
                issued=issued,
                lines=lines,
                paid_on=min(issued + timedelta(days=7 + i % 35), today) if paid else None,
                credited_on=min(issued + timedelta(days=5), today) if credited else None,
            )
        )
    for k, org_id in enumerate(probe_orgs):
        for j in range(PROBE_INVOICES):
            issued = first + timedelta(days=j * 65 + k)
            lines = [(12_000 + 500 * j, 0, "room_hire"), (2_500, 2_000, "other")]
            paid_on = min(issued + timedelta(days=20), today) if j < PROBE_PAID else None
            specs.append(_Spec(org_id, issued, lines, paid_on, None))
    specs.sort(key=lambda s: (s.issued, s.organisation))
    return specs


def _entry(ids: _Ids, now: datetime, **fields: Any) -> dict[str, Any]:
    row = {
        "id": ids("ledger_entries"),
        "posted_at": now,
        "stream": None,
        "vat_rate_bp": None,
        "invoice_id": None,
        "payment_id": None,
    }
    row.update(fields)
    row["description"] = row["description"][:300]
    return row


def _document_entries(
    ids: _Ids, now: datetime, doc: dict[str, Any], lines: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """What ledger.post_document writes for an issued invoice or credit note."""
    sign = 1 if doc["kind"] == "invoice" else -1
    common = {
        "journal": f"{doc['kind']}:{doc['id']}",
        "entry_date": doc["issue_date"],
        "source_type": doc["kind"],
        "source_id": str(doc["id"]),
        "organisation_id": doc["organisation_id"],
        "invoice_id": doc["id"],
    }
    number = doc["number_text"]
    rows = [
        _entry(
            ids,
            now,
            account="debtors",
            amount_pence=sign * doc["gross_pence"],
            description=f"{number} {doc['customer_name']}",
            **common,
        )
    ]
    for line in lines:
        rows.append(
            _entry(
                ids,
                now,
                account="income",
                amount_pence=-sign * line["net_pence"],
                stream=line["stream"],
                vat_rate_bp=line["vat_rate_bp"],
                description=f"{number}: {line['description']}",
                **common,
            )
        )
        if line["vat_pence"]:
            rows.append(
                _entry(
                    ids,
                    now,
                    account="vat",
                    amount_pence=-sign * line["vat_pence"],
                    stream=line["stream"],
                    vat_rate_bp=line["vat_rate_bp"],
                    description=f"{number}: VAT on {line['description']}",
                    **common,
                )
            )
    return rows


def _payment_entries(ids: _Ids, now: datetime, payment: dict[str, Any]) -> list[dict[str, Any]]:
    """What ledger.post_payment writes for a BACS payment."""
    label = f"Payment {payment['method'].upper()} {payment['reference']}".strip()
    return [
        _entry(
            ids,
            now,
            journal=f"payment:{payment['id']}",
            entry_date=payment["received_on"],
            account=account,
            amount_pence=amount,
            source_type="payment",
            source_id=str(payment["id"]),
            description=label,
            organisation_id=payment["organisation_id"],
            payment_id=payment["id"],
        )
        for account, amount in (("bank", payment["amount_pence"]), ("debtors", -payment["amount_pence"]))
    ]


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


async def _seed(settings: Settings, history: int) -> Seeded:
    """An admin and a token through the services, then the money history in bulk."""
    from sqlalchemy import insert, text, update

    from hub.auth import Identity
    from hub.billing.models import (
        Charge,
        Invoice,
        InvoiceLine,
        InvoiceSeries,
        LedgerEntry,
        Payment,
        PaymentAllocation,
    )
    from hub.billing.services.invoices import number_text
    from hub.db import create_engine, create_sessionmaker
    from hub.models import Organisation, OrganisationKind, Role, default_rate_band
    from hub.money import vat_pence
    from hub.schemas import UserCreate
    from hub.services import accounts
    from hub.text import name_key

    started = time.perf_counter()
    actor = Identity.system("bench")
    on = settings.today()
    now = datetime.now(UTC)
    ids = _Ids()
    engine = create_engine(settings)
    try:
        organisations: list[dict[str, Any]] = []
        for k in range(ORGANISATIONS + PROBE_ORGANISATIONS):
            probe = k >= ORGANISATIONS
            name = f"Bench Probe {k - ORGANISATIONS + 1:02d}" if probe else f"Bench Organisation {k + 1:03d}"
            kind = KINDS[k % len(KINDS)]
            organisations.append(
                {
                    "id": ids("organisations"),
                    "name": name,
                    "name_key": name_key(name),
                    "kind": kind,
                    "charity_number": None,
                    "company_number": None,
                    "address_line1": f"{k + 1} Dock Street",
                    "address_line2": "",
                    "town": "Fleetwood",
                    "postcode": "FY7 6JN",
                    "billing_email": f"accounts{k + 1}@bench.test",
                    "default_rate_band": default_rate_band(OrganisationKind(kind)).value,
                    "notes": "",
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                    "archived_at": None,
                }
            )
        by_id = {o["id"]: o for o in organisations}
        history_orgs = [o["id"] for o in organisations[:ORGANISATIONS]]
        probe_orgs = [o["id"] for o in organisations[ORGANISATIONS:]]
        specs = _history(history, on, history_orgs, probe_orgs)

        invoices: list[dict[str, Any]] = []
        lines: list[dict[str, Any]] = []
        charges: list[dict[str, Any]] = []
        payments: list[dict[str, Any]] = []
        allocations: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        credits: list[tuple[date, dict[str, Any], list[dict[str, Any]]]] = []
        supplier = {
            "supplier_name": settings.invoice_supplier_name,
            "supplier_address": "\n".join(settings.supplier_address),
            "supplier_vat_number": settings.vat_number,
            "supplier_charity_number": settings.charity_number,
        }
        for number, spec in enumerate(specs, start=1):
            org = by_id[spec.organisation]
            invoice_id = ids("invoices")
            doc_lines = []
            for position, (net, rate, stream) in enumerate(spec.lines, start=1):
                vat = vat_pence(net, rate)
                description = f"{stream.replace('_', ' ').capitalize()}, {spec.issued:%B %Y}"
                charge_id = ids("charges")
                charges.append(
                    {
                        "id": charge_id,
                        "organisation_id": org["id"],
                        "description": description,
                        "quantity": 1,
                        "supply_date": spec.issued - timedelta(days=position),
                        "net_pence": net,
                        "vat_rate_bp": rate,
                        "vat_pence": vat,
                        "stream": stream,
                        "source_type": "manual",
                        "source_id": None,
                        "source_key": None,
                        "status": "invoiced",
                        "invoice_id": invoice_id,
                        "created_by_id": None,
                        "created_at": _at(spec.issued),
                        "cancelled_at": None,
                        "cancelled_by_id": None,
                        "cancel_reason": "",
                    }
                )
                doc_lines.append(
                    {
                        "id": ids("invoice_lines"),
                        "invoice_id": invoice_id,
                        "position": position,
                        "charge_id": charge_id,
                        "credits_line_id": None,
                        "description": description,
                        "quantity": 1,
                        "supply_date": spec.issued - timedelta(days=position),
                        "net_pence": net,
                        "vat_rate_bp": rate,
                        "vat_pence": vat,
                        "gross_pence": net + vat,
                        "stream": stream,
                    }
                )
            net_total = sum(line["net_pence"] for line in doc_lines)
            vat_total = sum(line["vat_pence"] for line in doc_lines)
            gross = net_total + vat_total
            invoice = {
                "id": invoice_id,
                "kind": "invoice",
                "status": "paid" if spec.paid_on else ("credited" if spec.credited_on else "issued"),
                "series_prefix": settings.invoice_prefix,
                "number": number,
                "number_text": number_text(settings.invoice_prefix, number),
                "organisation_id": org["id"],
                "customer_name": org["name"],
                "customer_address": "\n".join(
                    x for x in (org["address_line1"], org["town"], org["postcode"]) if x
                ),
                "customer_email": org["billing_email"],
                **supplier,
                "issue_date": spec.issued,
                "tax_point": spec.issued,
                "due_date": spec.issued + timedelta(days=settings.payment_terms_days),
                "payment_terms_days": settings.payment_terms_days,
                "payment_instructions": settings.payment_instructions,
                "net_pence": net_total,
                "vat_pence": vat_total,
                "gross_pence": gross,
                "paid_pence": gross if spec.paid_on else 0,
                "credited_pence": gross if spec.credited_on else 0,
                "original_invoice_id": None,
                "reason": "",
                "notes": "",
                "created_by_id": None,
                "created_at": _at(spec.issued),
                "issued_at": _at(spec.issued),
                "issued_by_id": None,
                "voided_at": None,
                "voided_by_id": None,
                "void_reason": "",
            }
            invoices.append(invoice)
            lines.extend(doc_lines)
            entries.extend(_document_entries(ids, now, invoice, doc_lines))
            if spec.paid_on:
                payment = {
                    "id": ids("payments"),
                    "organisation_id": org["id"],
                    "method": "bacs",
                    "amount_pence": gross,
                    "received_on": spec.paid_on,
                    "reference": invoice["number_text"],
                    "note": "",
                    "refund_of_id": None,
                    "stripe_payment_intent_id": None,
                    "stripe_refund_id": None,
                    "created_by_id": None,
                    "created_by_label": "bench",
                    "created_at": _at(spec.paid_on),
                }
                payments.append(payment)
                allocations.append(
                    {
                        "id": ids("payment_allocations"),
                        "payment_id": payment["id"],
                        "invoice_id": invoice_id,
                        "amount_pence": gross,
                        "created_at": _at(spec.paid_on),
                        "created_by_id": None,
                    }
                )
                entries.extend(_payment_entries(ids, now, payment))
            if spec.credited_on:
                credits.append((spec.credited_on, invoice, doc_lines))
        credits.sort(key=lambda c: (c[0], c[1]["id"]))
        for number, (credited_on, original, original_lines) in enumerate(credits, start=1):
            note_id = ids("invoices")
            note_lines = [
                line
                | {
                    "id": ids("invoice_lines"),
                    "invoice_id": note_id,
                    "charge_id": None,
                    "credits_line_id": line["id"],
                }
                for line in original_lines
            ]
            note = original | {
                "id": note_id,
                "kind": "credit_note",
                "status": "issued",
                "series_prefix": settings.credit_note_prefix,
                "number": number,
                "number_text": number_text(settings.credit_note_prefix, number),
                "issue_date": credited_on,
                "tax_point": credited_on,
                "due_date": None,
                "payment_instructions": "",
                "paid_pence": 0,
                "credited_pence": 0,
                "original_invoice_id": original["id"],
                "reason": "Cancelled by agreement",
                "created_at": _at(credited_on),
                "issued_at": _at(credited_on),
            }
            invoices.append(note)
            lines.extend(note_lines)
            entries.extend(_document_entries(ids, now, note, note_lines))

        async with engine.begin() as conn:
            await conn.execute(insert(Organisation.__table__), organisations)
            for table, rows in (
                (Invoice.__table__, invoices),
                (Charge.__table__, charges),
                (InvoiceLine.__table__, lines),
                (Payment.__table__, payments),
                (PaymentAllocation.__table__, allocations),
                (LedgerEntry.__table__, entries),
            ):
                for chunk in range(0, len(rows), 5_000):
                    await conn.execute(insert(table), rows[chunk : chunk + 5_000])
            for prefix, last in (
                (settings.invoice_prefix, len(specs)),
                (settings.credit_note_prefix, len(credits)),
            ):
                await conn.execute(
                    update(InvoiceSeries).where(InvoiceSeries.prefix == prefix).values(last_number=last)
                )
            if not settings.is_sqlite:
                for table in ids.last:
                    sequence = f"pg_get_serial_sequence('{table}', 'id')"
                    await conn.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))
        async with create_sessionmaker(engine)() as db:
            user = await accounts.create_user(
                db,
                actor,
                UserCreate(email=ADMIN_EMAIL, name="Bench Finance", role=Role.ADMIN, password=ADMIN_PASSWORD),
            )
            token, _ = await accounts.create_token(db, settings, actor, "bench", user_id=user.id)
        if not settings.is_sqlite:
            # A live PostgreSQL has statistics (autovacuum); a fresh bulk load has none until ANALYZE.
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    open_invoices: dict[int, list[list[int]]] = {org_id: [] for org_id in probe_orgs}
    for invoice in sorted(invoices, key=lambda i: (i["due_date"] or on, i["id"])):
        org_id = invoice["organisation_id"]
        if org_id in open_invoices and invoice["kind"] == "invoice" and invoice["status"] == "issued":
            open_invoices[org_id].append([invoice["id"], invoice["gross_pence"]])
    return Seeded(
        token=token,
        today=on,
        probes=probe_orgs,
        big=history_orgs[0],
        open_invoices=open_invoices,
        invoices=len(specs),
        credit_notes=len(credits),
        payments=len(payments),
        ledger_entries=len(entries),
        seconds=time.perf_counter() - started,
    )


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


class Failed(RuntimeError):
    pass


def expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        request = response.request
        raise Failed(f"{request.method} {request.url} -> {response.status_code}: {response.text[:500]}")
    return response


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def ledger_check(client: httpx.Client) -> dict[str, Any]:
    result: dict[str, Any] = expect(client.get("/api/v1/ledger/check"), 200).json()
    if not result["ok"]:
        problems = "\n    ".join(result["problems"][:10])
        raise Failed(
            f"the ledger check failed ({len(result['problems'])} problems); the first:\n    {problems}"
        )
    return result


def charge_body(organisation_id: int, today: date) -> dict[str, Any]:
    return {
        "organisation_id": organisation_id,
        "description": "Extra cleaning after an event",
        "net_pence": 4_500,
        "vat_rate_bp": 2_000,
        "supply_date": today.isoformat(),
        "stream": "other",
    }


async def _batches(base: str, token: str, seeded: Seeded, rounds: int) -> list[float]:
    """Per round: an open charge for each probe organisation (not timed), then their ten
    invoices at once (timed), whose numbers must be ten distinct consecutive ones."""
    timings = []
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=10)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=120) as client:
        for _ in range(rounds):
            for org_id in seeded.probes:
                expect(await client.post("/api/v1/charges", json=charge_body(org_id, seeded.today)), 201)
            started = time.perf_counter()
            responses = await asyncio.gather(
                *(client.post("/api/v1/invoices", json={"organisation_id": o}) for o in seeded.probes)
            )
            timings.append((time.perf_counter() - started) * 1000)
            made = [expect(r, 201).json() for r in responses]
            numbers = sorted(int(m["number"].rpartition("-")[2]) for m in made)
            if numbers != list(range(numbers[0], numbers[0] + len(made))):
                raise Failed(f"ten concurrent invoices were numbered {numbers}: not ten consecutive numbers")
            for m in made:
                seeded.open_invoices[m["organisation_id"]].append([m["id"], m["outstanding_pence"]])
    return timings


def measure(base: str, seeded: Seeded, counts: Counts) -> tuple[dict[str, Stat], dict[str, Any]]:
    stats: dict[str, Stat] = {}
    turn = itertools.cycle(seeded.probes)  # round-robin over the probe organisations
    today = seeded.today.isoformat()

    def run(
        name: str, count: int, call: Callable[[], Any], note: str = "", warmup: int | None = None
    ) -> None:
        for _ in range(counts.warmup if warmup is None else warmup):
            call()
        stats[name] = Stat(name, [timed(call) for _ in range(count)], note)

    headers = {"Authorization": f"Bearer {seeded.token}"}
    # The ledger check answers slowly on a big history (minutes at 20k): a long read timeout.
    with httpx.Client(base_url=base, headers=headers, timeout=httpx.Timeout(60, read=3_600)) as api:
        started = time.perf_counter()
        check = ledger_check(api)
        first_check_ms = (time.perf_counter() - started) * 1000
        print(
            f"  ledger check: ok ({check['invoices']:,} documents, {check['payments']:,} payments, "
            f"{check['entries']:,} entries in {check['journals']:,} journals; "
            f"{first_check_ms / 1000:.1f}s)",
            flush=True,
        )
        run("floor /healthz", counts.floor, lambda: expect(api.get("/healthz"), 200))

        def charge_and_invoice() -> None:
            org_id = next(turn)
            expect(api.post("/api/v1/charges", json=charge_body(org_id, seeded.today)), 201)
            made = expect(api.post("/api/v1/invoices", json={"organisation_id": org_id}), 201).json()
            seeded.open_invoices[org_id].append([made["id"], made["outstanding_pence"]])

        run("charge+invoice", counts.charge_invoice, charge_and_invoice, "POST charge, then POST invoice")

        def pay() -> None:
            org_id = next(turn)
            if not seeded.open_invoices[org_id]:
                raise Failed(f"probe organisation {org_id} has no open invoice left to pay")
            invoice_id, owed = seeded.open_invoices[org_id].pop(0)
            body = {
                "organisation_id": org_id,
                "method": "bacs",
                "amount_pence": owed,
                "received_on": today,
                "reference": "Bench BACS",
            }
            paid = expect(api.post("/api/v1/payments", json=body), 201).json()
            got = [(a["invoice_id"], a["amount_pence"]) for a in paid["allocations"]]
            if got != [(invoice_id, owed)]:
                raise Failed(f"payment allocated {got}, expected [({invoice_id}, {owed})]")

        run("payment", counts.payment, pay, "BACS, auto-allocated to the oldest open invoice")
        timings = asyncio.run(_batches(base, seeded.token, seeded, counts.batch_rounds + 2))[2:]
        stats["invoice x10 (batch)"] = Stat(
            "invoice x10 (batch)", timings, "wall time of 10 concurrent issues; numbers consecutive"
        )
        run(
            "invoice list",
            counts.invoice_list,
            lambda: expect(api.get("/api/v1/invoices", params={"overdue": "true", "per_page": 50}), 200),
            "GET /api/v1/invoices?overdue=true&per_page=50",
        )
        run(
            "aged debt",
            counts.aged_debt,
            lambda: expect(api.get("/api/v1/aged-debt"), 200),
            "scales with " + SCALES_WITH_HISTORY["aged debt"],
        )
        probe = seeded.probes[0]
        run(
            "statement",
            counts.statement,
            lambda: expect(api.get(f"/api/v1/organisations/{probe}/statement"), 200),
            "a probe organisation: the same history at every size",
        )
        run(
            "statement (big)",
            counts.statement,
            lambda: expect(api.get(f"/api/v1/organisations/{seeded.big}/statement"), 200),
            "scales with " + SCALES_WITH_HISTORY["statement (big)"],
        )
        # The proof above is the first sample (it is too slow to repeat much); any more are taken
        # now, after the operations, and so also prove that the ledger still reconciles.
        last = dict(check)

        def check_again() -> None:
            last.update(ledger_check(api))

        run(
            "ledger check",
            counts.ledger_check - 1,
            check_again,
            "scales with " + SCALES_WITH_HISTORY["ledger check"],
            warmup=0,
        )
        stats["ledger check"].samples_ms.insert(0, first_check_ms)
    return stats, last


# --- running and reporting -------------------------------------------------------------------------


def run_backend(
    backend: str, make_url: Callable[[int], Iterator[str]], sizes: list[int], counts: Counts
) -> dict[str, Any]:
    results: dict[str, Any] = {"backend": backend, "sizes": {}}
    for size in sizes:
        for url in make_url(size):
            settings = bench_settings(url)
            print(f"[{backend}] {size:,} invoices of history: seeding ...", flush=True)
            seeded = make_database(settings, size)
            print(
                f"[{backend}] seeded in {seeded.seconds:.1f}s ({seeded.invoices:,} invoices, "
                f"{seeded.credit_notes:,} credit notes, {seeded.payments:,} payments, "
                f"{seeded.ledger_entries:,} ledger entries); checking and measuring ...",
                flush=True,
            )
            with (
                tempfile.TemporaryDirectory() as logs,
                Server(__file__, url, Path(logs) / "server.log") as server,
            ):
                try:
                    stats, check = measure(server.base, seeded, counts)
                except Failed as exc:
                    sys.exit(f"[{backend}] {size:,}: stopped: {exc}")
            per_document = stats["ledger check"].median / max(check["invoices"], 1)
            stats["ledger check"].note += f"; {per_document * 1000:.1f} µs per document"
            results["sizes"][str(size)] = {
                "seed_seconds": round(seeded.seconds, 1),
                "history": {
                    "invoices": seeded.invoices,
                    "credit_notes": seeded.credit_notes,
                    "payments": seeded.payments,
                    "ledger_entries": seeded.ledger_entries,
                    "organisations": ORGANISATIONS + PROBE_ORGANISATIONS,
                },
                "ledger_check_last": {k: check[k] for k in ("journals", "entries", "invoices", "payments")},
                "ledger_check_ms_per_document": round(per_document, 4),
                "operations": {name: stat.as_json() for name, stat in stats.items()},
            }
    return results


def report(results: dict[str, Any], sizes: list[int]) -> None:
    small, large = str(sizes[0]), str(sizes[-1])
    by_size = results["sizes"]
    names = list(by_size[large]["operations"])
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
        floor = by_size[large]["operations"][FLOOR]["median_ms"]
        times_floor = b["median_ms"] / floor
        held = name not in SCALES_WITH_HISTORY and name != FLOOR
        if ratio is None or name == FLOOR:
            verdict = ""
        elif not held:
            verdict = "  (whole history)" if name == "ledger check" else "  (grows by design)"
        else:
            verdict = "  ok" if ratio <= RATIO_LIMIT else "  GROWS"
        ratios[name] = {
            "ratio_large_to_small": round(ratio, 2) if ratio else None,
            "times_floor_small": round(a["median_ms"] / by_size[small]["operations"][FLOOR]["median_ms"], 1)
            if a
            else None,
            "times_floor_large": round(times_floor, 1),
            "target_applies": held,
            "within_limit": None if ratio is None or not held else ratio <= RATIO_LIMIT,
            "scales_with": SCALES_WITH_HISTORY.get(name),
        }
        nan = float("nan")
        cells = [a["median_ms"] if a else nan, a["p95_ms"] if a else nan, b["median_ms"], b["p95_ms"]]
        figures = " ".join(f"{c:10.1f}" for c in cells)
        print(f"{name:22} {figures} {ratio or nan:7.2f} {times_floor:9.1f}{verdict}")
    per_doc = [by_size[s]["ledger_check_ms_per_document"] * 1000 for s in (small, large)]
    documents = [by_size[s]["ledger_check_last"]["invoices"] for s in (small, large)]
    print(
        f"ledger check per document: {per_doc[0]:.1f} µs at {documents[0]:,} documents, "
        f"{per_doc[1]:.1f} µs at {documents[1]:,} (flat if the check is linear in the history)"
    )
    results["ratios"] = ratios


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="100 and 2,000 invoices, fewer repetitions")
    parser.add_argument(
        "--sizes", default="", help="history sizes, comma-separated (default 500,20000; quick 100,2000)"
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
    sizes = sorted(int(s) for s in (args.sizes or ("100,2000" if args.quick else "500,20000")).split(","))
    counts = Counts.quick() if args.quick else Counts()
    backends: list[tuple[str, Callable[[int], Iterator[str]]]] = []
    if args.backend in ("sqlite", "all"):
        backends.append(("sqlite", sqlite_urls("hub-bench-money")))
    if args.backend in ("postgresql", "all"):
        if args.postgres_url:
            backends.append(("postgresql", postgres_urls(args.postgres_url, "hub_bench_money")))
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
        path = RESULTS / f"money-{backend}{'-quick' if args.quick else ''}.json"
        path.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\n{backend}: {results['seconds']:.0f}s in all; results in {path.relative_to(ROOT)}\n")


if __name__ == "__main__":
    main()
