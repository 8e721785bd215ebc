"""Demo money: a few months of invoices, payments, a credit note and some overdue debt.

Made through the real services (backdated where history needs it), so the ledger check passes
on the demo just as it must on a real hub. Charges the modules' demos have already
posted are left open, for the billing run and "New invoice".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.billing.models import PaymentMethod
from hub.billing.schemas import (
    AllocationIn,
    ChargeCreate,
    CreditLineIn,
    CreditNoteCreate,
    InvoiceCreate,
    PaymentCreate,
)
from hub.billing.services import charges, invoices, payments
from hub.config import Settings

DEMO_SUPPLIER = {
    "supplier_name": "Fleetwood Community Hub",
    "supplier_address": ("The Old Hospital", "Pharos Street", "Fleetwood", "FY7 6BE"),
    "charity_number": "1190001",
    "payment_instructions": (
        "Bank transfer to Fleetwood Community Hub (demo account)\n"
        "Sort code 00-00-00, account 00000000\n"
        "Please quote the invoice number."
    ),
}


def demo_settings(settings: Settings) -> Settings:
    """The demo hub's own details, where the environment gives none."""
    if settings.supplier_address:
        return settings
    return replace(settings, **DEMO_SUPPLIER)  # type: ignore[arg-type]


@dataclass(frozen=True)
class History:
    organisation: str
    description: str
    net_pence: int
    vat_rate_bp: int
    stream: str  # an income stream the modules declare
    months_ago: int  # invoiced on the 1st of the month this many months back
    paid: str  # "all", "part", "none", "over"


HISTORY = [
    History(
        "Coastal Youth Trust",
        "Youth club, Main Hall, 12 sessions",
        43_200,
        0,
        "room_hire",
        4,
        "all",
    ),
    History(
        "Coastal Youth Trust",
        "Youth club, Main Hall, 13 sessions",
        46_800,
        0,
        "room_hire",
        1,
        "part",
    ),
    History(
        "Fleetwood Food Bank",
        "Community kitchen, Tuesdays and Fridays",
        19_200,
        0,
        "room_hire",
        3,
        "all",
    ),
    History(
        "Fleetwood Food Bank",
        "Community kitchen, Tuesdays and Fridays",
        20_800,
        0,
        "room_hire",
        1,
        "none",
    ),
    History("Harbour Art Group", "Art studio, Thursday mornings", 9_600, 0, "room_hire", 4, "none"),
    History("Harbour Art Group", "Art studio, Thursday mornings", 9_600, 0, "room_hire", 2, "none"),
    History(
        "Active Coast Fitness Ltd",
        "Exercise studio, evening classes",
        64_000,
        2_000,
        "room_hire",
        3,
        "all",
    ),
    History(
        "Active Coast Fitness Ltd",
        "Exercise studio, evening classes",
        64_000,
        2_000,
        "room_hire",
        2,
        "none",
    ),
    History(
        "Active Coast Fitness Ltd",
        "Extra cleaning after an event",
        4_500,
        2_000,
        "other",
        1,
        "none",
    ),
    History("Fleetwood Community Credit Union", "Office licence fee", 35_000, 0, "rent", 2, "all"),
    History("Fleetwood Community Credit Union", "Office licence fee", 35_000, 0, "rent", 1, "over"),
    History(
        "Fleetwood Community Credit Union",
        "Service charge, quarter",
        12_000,
        2_000,
        "service_charge",
        1,
        "none",
    ),
    History(
        "Lancashire Coast NHS Foundation Trust",
        "Consulting rooms, outpatient clinics",
        180_000,
        0,
        "room_hire",
        2,
        "all",
    ),
    History(
        "Lancashire Coast NHS Foundation Trust",
        "Consulting rooms, outpatient clinics",
        186_000,
        0,
        "room_hire",
        1,
        "none",
    ),
    History("Wyre Carers Network", "Meeting room, monthly", 3_600, 0, "room_hire", 1, "all"),
]


def first_of_month(today: date, months_ago: int) -> date:
    year, month = today.year, today.month - months_ago
    while month < 1:
        month += 12
        year -= 1
    return date(year, month, 1)


async def seed(db: AsyncSession, settings: Settings, organisations: dict[str, int]) -> None:
    actor = Identity.system("demo data")
    settings = demo_settings(settings)
    today = settings.today()
    issued = []
    # Oldest first, so that numbers follow the dates as they would have been issued.
    for item in sorted(HISTORY, key=lambda h: -h.months_ago):
        org_id = organisations[item.organisation]
        issue_on = first_of_month(today, item.months_ago)
        charge = await charges.create_manual(
            db,
            actor,
            ChargeCreate(
                organisation_id=org_id,
                description=item.description,
                net_pence=item.net_pence,
                supply_date=issue_on - timedelta(days=14),
                vat_rate_bp=item.vat_rate_bp,
                stream=item.stream,
            ),
        )
        invoice = await invoices.create_invoice(
            db,
            settings,
            actor,
            InvoiceCreate(organisation_id=org_id, charge_ids=[charge.id]),
            on=issue_on,
        )
        issued.append((item, invoice))
        if item.paid == "none":
            continue
        owed = invoice.gross_pence
        amount = {"all": owed, "part": owed // 2, "over": owed + 2_500}[item.paid]
        received = min(issue_on + timedelta(days=12), today)
        await payments.record_payment(
            db,
            settings,
            actor,
            PaymentCreate(
                organisation_id=org_id,
                method=PaymentMethod.BACS if item.paid != "part" else PaymentMethod.CHEQUE,
                amount_pence=amount,
                received_on=received,
                reference=f"Remittance {invoice.number_text}",
                allocations=[AllocationIn(invoice_id=invoice.id, amount_pence=min(amount, owed))],
            ),
        )
    # A session the art group could not use (the studio was flooded): part of it credited.
    art = next(invoice for item, invoice in issued if item.organisation == "Harbour Art Group")
    await invoices.create_credit_note(
        db,
        settings,
        actor,
        art.id,
        CreditNoteCreate(
            reason="Studio closed by a leak on one Thursday: that session credited",
            lines=[CreditLineIn(line_id=art.lines[0].id, net_pence=2_400)],
        ),
        on=min(first_of_month(today, 4) + timedelta(days=20), today),
    )
    # A draft waiting for reception to check: the carers' network's next meeting.
    carers = organisations["Wyre Carers Network"]
    charge = await charges.create_manual(
        db,
        actor,
        ChargeCreate(
            organisation_id=carers,
            description="Tea and coffee for 20, carers' coffee morning",
            net_pence=3_000,
            supply_date=today,
            vat_rate_bp=2_000,
            stream="cafe",
        ),
    )
    await invoices.create_invoice(
        db, settings, actor, InvoiceCreate(organisation_id=carers, charge_ids=[charge.id], issue=False)
    )
