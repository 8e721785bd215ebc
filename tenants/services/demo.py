"""Demo data for the tenants module: the hub's lettable units on three floors and a dozen VCSE
tenants with realistic agreements, all made through the services staff use (acting as "demo data").

Dates are relative to today in the building's time zone, so the demo always shows the same
picture: one tenant in a rent-free period, one with a charity discount, one ending within 90 days,
one with a break date whose notice day is coming, a rent review and an insurance certificate due,
one under notice, a drafted renewal, an ended agreement in the past, deposits received. The two
demo tenant logins (Coastal Youth Trust, Fleetwood Food Bank) each hold an agreement.

To add to it (billed history, bookings with hours), call :func:`seed_agreements` and use the
agreement ids it answers by tenant name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.config import Settings
from hub.models import OrganisationKind
from hub.schemas import ContactIn, OrganisationCreate
from hub.services import organisations as organisation_service
from tenants.models import AgreementKind, Frequency, UnitKind
from tenants.schemas import AgreementCreate, BreakIn, RenewIn, ReviewIn, UnitCreate
from tenants.services import agreements, deposits, units
from tenants.services.agreements import add_months

ACTOR = Identity.system("demo data")


@dataclass(frozen=True)
class DemoUnit:
    name: str
    kind: UnitKind
    floor: str
    area_m2: str
    features: tuple[str, ...] = ()


UNITS = (
    DemoUnit("Office 1", UnitKind.OFFICE, "Ground", "16.20", ("Step-free", "Window onto Pharos Street")),
    DemoUnit("Office 2", UnitKind.OFFICE, "Ground", "22.50", ("Step-free", "Sink")),
    DemoUnit("Office 3", UnitKind.OFFICE, "Ground", "12.00", ("Step-free",)),
    DemoUnit("Office 4", UnitKind.OFFICE, "Ground", "28.75", ("Step-free", "Loading door")),
    DemoUnit("Store 1", UnitKind.STORAGE, "Ground", "9.50", ("Step-free", "Chilled")),
    DemoUnit("Store 2", UnitKind.STORAGE, "Ground", "6.00", ("Step-free",)),
    DemoUnit("Office 5", UnitKind.OFFICE, "First", "18.40", ("Lift",)),
    DemoUnit("Office 6", UnitKind.OFFICE, "First", "24.00", ("Lift", "Interview booth")),
    DemoUnit("Office 7", UnitKind.OFFICE, "First", "19.60", ("Lift", "Soundproofed")),
    DemoUnit("Office 8", UnitKind.OFFICE, "First", "14.80", ("Lift",)),
    DemoUnit("Desk 1", UnitKind.DESK, "First", "4.50", ("Lift", "Locker")),
    DemoUnit("Desk 2", UnitKind.DESK, "First", "4.50", ("Lift", "Locker")),
    DemoUnit("Desk 3", UnitKind.DESK, "First", "4.50", ("Lift", "Locker")),
    DemoUnit("Desk 4", UnitKind.DESK, "First", "4.50", ("Lift", "Locker")),
    DemoUnit("Office 9", UnitKind.OFFICE, "Second", "32.00", ("Lift", "Sea view")),
    DemoUnit("Office 10", UnitKind.OFFICE, "Second", "20.25", ("Lift",)),
)
# Under repair: "unavailable" whatever the agreements.
OUT_OF_USE = {"Office 3": "Damp in the north wall: repair booked with the landlord's surveyor."}

# Tenants the core demo does not already have (name, charity number, contact).
NEW_TENANTS = (
    ("Fylde Coast Minds", "1175678", "Helen Ashworth", "helen@fyldecoastminds.test", "Service manager"),
    ("Wyre Men's Shed", "1186543", "Frank Tomlinson", "frank@wyremensshed.test", "Chair"),
    ("Fleetwood Refugee Welcome", "1190321", "Amira Haddad", "amira@fleetwoodwelcome.test", "Coordinator"),
    ("Bay Advice Centre", "1154321", "Martin Hughes", "advice@bayadvice.test", "Advice services manager"),
    ("Fleetwood Maritime Heritage Trust", "1143210", "Joan Parr", "joan@maritimeheritage.test", "Trustee"),
    ("Fylde Domestic Abuse Support", "1167890", "Lisa Morgan", "lisa@fyldedas.test", "Operations lead"),
    ("Green Coast Energy CIC", None, "Tom Riley", "tom@greencoast.test", "Director"),
)


@dataclass(frozen=True)
class DemoAgreement:
    tenant: str
    units: tuple[str, ...]
    kind: AgreementKind
    frequency: Frequency
    start: date
    end: date | None
    rent_pence_per_year: int
    service_charge_pence_per_year: int
    permitted_use: str
    notice_months: int | None = None
    included_hours: int = 0
    deposit_pence: int = 0
    discount_bp: int = 0
    discount_reason: str | None = None
    rent_free: tuple[date, date] | None = None
    insurance_expires_on: date | None = None
    breaks: tuple[tuple[date, int], ...] = ()
    reviews: tuple[tuple[date, int | None, str | None], ...] = ()
    activate: bool = True
    notice: tuple[date, date] | None = None  # given on, ends on
    ended: tuple[date, str] | None = None
    renew: bool = False  # draft a renewal from the day after it ends


def quarter_day_on_or_before(day: date) -> date:
    """The English quarter day (25 Mar, 24 Jun, 29 Sep, 25 Dec) on or before ``day``."""
    candidates = [
        date(year, month, dom)
        for year in (day.year - 1, day.year)
        for month, dom in ((3, 25), (6, 24), (9, 29), (12, 25))
    ]
    return max(c for c in candidates if c <= day)


def demo_agreements(today: date) -> list[DemoAgreement]:
    """The dozen tenants' agreements, as of ``today``."""
    month = today.replace(day=1)
    quarter = quarter_day_on_or_before(today)
    year = timedelta(days=365)

    def month_end(first: date, months: int) -> date:
        return add_months(first, months) - timedelta(days=1)

    food_bank_start = quarter_day_on_or_before(today - 2 * year)
    credit_union_start = add_months(month, -34)
    carers_start = add_months(month, -23)
    minds_start = add_months(month, -2)
    return [
        # The food bank: a five-year lease of an office and the chilled store, charity discount,
        # deposit held, a break at three years, a fixed 3 % review each year.
        DemoAgreement(
            "Fleetwood Food Bank",
            ("Office 4", "Store 1"),
            AgreementKind.LEASE,
            Frequency.QUARTERLY,
            food_bank_start,
            add_months(food_bank_start, 60) - timedelta(days=1),
            rent_pence_per_year=960_000,
            service_charge_pence_per_year=180_000,
            permitted_use="Offices and food storage for a food bank; no cooking.",
            included_hours=20,
            deposit_pence=240_000,
            discount_bp=2_000,
            discount_reason="Registered charity working with the hub's own beneficiaries",
            insurance_expires_on=today + timedelta(days=45),
            breaks=((add_months(food_bank_start, 36), 182),),
            reviews=(
                (add_months(food_bank_start, 12), 300, None),
                (add_months(food_bank_start, 24), 300, None),
            ),
        ),
        # The youth charity: a rolling monthly licence, CPI review to apply by hand next month.
        DemoAgreement(
            "Coastal Youth Trust",
            ("Office 2",),
            AgreementKind.LICENCE,
            Frequency.MONTHLY,
            add_months(month, -14),
            None,
            notice_months=3,
            rent_pence_per_year=720_000,
            service_charge_pence_per_year=90_000,
            permitted_use="Youth work offices and one-to-one mentoring.",
            included_hours=10,
            deposit_pence=60_000,
            insurance_expires_on=add_months(today, 7),
            reviews=((add_months(month, 2), None, "CPI (ONS, 12 months to the review)"),),
        ),
        # The credit union: a lease with a break date coming (notice due within the alert window).
        DemoAgreement(
            "Fleetwood Community Credit Union",
            ("Office 6",),
            AgreementKind.LEASE,
            Frequency.QUARTERLY,
            credit_union_start,
            month_end(credit_union_start, 60),
            rent_pence_per_year=1_080_000,
            service_charge_pence_per_year=150_000,
            permitted_use="Credit union branch and member interviews.",
            included_hours=8,
            deposit_pence=270_000,
            insurance_expires_on=add_months(today, 5),
            breaks=((add_months(today, 4).replace(day=1), 90),),
        ),
        # The carers' network: a two-year licence ending within 90 days.
        DemoAgreement(
            "Wyre Carers Network",
            ("Office 5",),
            AgreementKind.LICENCE,
            Frequency.MONTHLY,
            carers_start,
            month_end(carers_start, 24),
            rent_pence_per_year=600_000,
            service_charge_pence_per_year=90_000,
            permitted_use="Carers' support offices and drop-in.",
            included_hours=12,
            insurance_expires_on=add_months(today, 9),
            renew=True,
        ),
        # The café's CIC: a store on a rolling licence.
        DemoAgreement(
            "Pharos Kitchen CIC",
            ("Store 2",),
            AgreementKind.LICENCE,
            Frequency.MONTHLY,
            add_months(month, -20),
            None,
            notice_months=1,
            rent_pence_per_year=144_000,
            service_charge_pence_per_year=0,
            permitted_use="Dry goods storage for the community café.",
            insurance_expires_on=add_months(today, 3),
        ),
        # The mental-health charity: a new three-year lease, six months rent-free to fit out.
        DemoAgreement(
            "Fylde Coast Minds",
            ("Office 7",),
            AgreementKind.LEASE,
            Frequency.QUARTERLY,
            minds_start,
            month_end(minds_start, 36),
            rent_pence_per_year=840_000,
            service_charge_pence_per_year=120_000,
            permitted_use="Counselling rooms and offices for a mental-health charity.",
            included_hours=16,
            deposit_pence=210_000,
            rent_free=(minds_start, month_end(minds_start, 6)),
            insurance_expires_on=add_months(today, 10),
            reviews=((add_months(minds_start, 18), 250, None),),
        ),
        DemoAgreement(
            "Wyre Men's Shed",
            ("Desk 1",),
            AgreementKind.LICENCE,
            Frequency.MONTHLY,
            add_months(month, -8),
            None,
            notice_months=1,
            rent_pence_per_year=96_000,
            service_charge_pence_per_year=12_000,
            permitted_use="Hot desk for the shed's coordinator.",
            included_hours=4,
        ),
        DemoAgreement(
            "Fleetwood Refugee Welcome",
            ("Desk 2",),
            AgreementKind.LICENCE,
            Frequency.MONTHLY,
            add_months(month, -5),
            None,
            notice_months=1,
            rent_pence_per_year=96_000,
            service_charge_pence_per_year=12_000,
            permitted_use="Desk for casework and volunteer coordination.",
            included_hours=6,
            discount_bp=5_000,
            discount_reason="Start-up support agreed by the trustees for the first year",
        ),
        # The advice centre: a lease under notice, ending in four months.
        DemoAgreement(
            "Bay Advice Centre",
            ("Office 8",),
            AgreementKind.LEASE,
            Frequency.QUARTERLY,
            quarter_day_on_or_before(today - 3 * year),
            None,
            notice_months=6,
            rent_pence_per_year=660_000,
            service_charge_pence_per_year=90_000,
            permitted_use="Welfare and debt advice by appointment.",
            included_hours=8,
            notice=(add_months(today, -2), add_months(today, 4)),
        ),
        DemoAgreement(
            "Fleetwood Maritime Heritage Trust",
            ("Office 9",),
            AgreementKind.LEASE,
            Frequency.QUARTERLY,
            quarter,
            add_months(quarter, 36) - timedelta(days=1),
            rent_pence_per_year=1_350_000,
            service_charge_pence_per_year=210_000,
            permitted_use="Archive, offices and volunteer workroom.",
            included_hours=12,
            deposit_pence=330_000,
            insurance_expires_on=add_months(today, 11),
        ),
        DemoAgreement(
            "Fylde Domestic Abuse Support",
            ("Office 10", "Office 1"),
            AgreementKind.LEASE,
            Frequency.MONTHLY,
            add_months(month, -11),
            add_months(month, 25) - timedelta(days=1),
            rent_pence_per_year=1_020_000,
            service_charge_pence_per_year=150_000,
            permitted_use="Confidential outreach offices; address not published.",
            included_hours=20,
            deposit_pence=255_000,
            insurance_expires_on=today + timedelta(days=20),
        ),
        # The energy CIC: a desk licence drafted, starting next month, awaiting signature.
        DemoAgreement(
            "Green Coast Energy CIC",
            ("Desk 3",),
            AgreementKind.LICENCE,
            Frequency.MONTHLY,
            add_months(month, 1),
            None,
            notice_months=1,
            rent_pence_per_year=96_000,
            service_charge_pence_per_year=12_000,
            permitted_use="Desk for the CIC's community energy officer.",
            included_hours=2,
            activate=False,
        ),
        # History: the art group's desk, ended last year when they moved to the studio.
        DemoAgreement(
            "Harbour Art Group",
            ("Desk 4",),
            AgreementKind.LICENCE,
            Frequency.MONTHLY,
            add_months(month, -30),
            None,
            notice_months=1,
            rent_pence_per_year=84_000,
            service_charge_pence_per_year=0,
            permitted_use="Storage desk for the group's materials.",
            ended=(add_months(month, -12) - timedelta(days=1), "Moved to a weekly studio booking instead"),
        ),
    ]


async def _ensure_tenants(db: AsyncSession, organisations: dict[str, int]) -> None:
    for name, charity, contact, email, role in NEW_TENANTS:
        if name in organisations:
            continue
        data = OrganisationCreate(
            name=name,
            kind=OrganisationKind.VCSE,
            charity_number=charity,
            company_number="14567890" if charity is None else None,
            address_line1="The Hub, Pharos Street",
            town="Fleetwood",
            postcode="FY7 6BE",
            billing_email=email,
            contacts=[ContactIn(name=contact, email=email, role=role)],
        )
        organisations[name] = (await organisation_service.create(db, ACTOR, data)).id


async def seed_units(db: AsyncSession) -> dict[str, int]:
    ids: dict[str, int] = {}
    for unit in UNITS:
        data = UnitCreate(
            name=unit.name,
            kind=unit.kind,
            floor=unit.floor,
            area_m2=Decimal(unit.area_m2),
            features=list(unit.features),
            out_of_use=unit.name in OUT_OF_USE,
            notes=OUT_OF_USE.get(unit.name, ""),
        )
        ids[unit.name] = (await units.create_unit(db, ACTOR, data)).id
    return ids


async def seed_agreements(
    db: AsyncSession, settings: Settings, organisations: dict[str, int]
) -> dict[str, int]:
    """Units, the extra tenants and their agreements; answers agreement ids by tenant name."""
    today = settings.today()
    await _ensure_tenants(db, organisations)
    unit_ids = await seed_units(db)
    made: dict[str, int] = {}
    for item in demo_agreements(today):
        data = AgreementCreate(
            organisation_id=organisations[item.tenant],
            kind=item.kind,
            unit_ids=[unit_ids[name] for name in item.units],
            start_date=item.start,
            end_date=item.end,
            notice_months=item.notice_months,
            rent_pence_per_year=item.rent_pence_per_year,
            service_charge_pence_per_year=item.service_charge_pence_per_year,
            frequency=item.frequency,
            rent_free_start=item.rent_free[0] if item.rent_free else None,
            rent_free_end=item.rent_free[1] if item.rent_free else None,
            discount_bp=item.discount_bp,
            discount_reason=item.discount_reason,
            deposit_pence=item.deposit_pence,
            permitted_use=item.permitted_use,
            insurance_expires_on=item.insurance_expires_on,
            included_minutes_per_month=item.included_hours * 60,
            breaks=[BreakIn(break_date=d, notice_days=n) for d, n in item.breaks],
            reviews=[
                ReviewIn(review_date=d, uplift_bp=bp, index_name=index) for d, bp, index in item.reviews
            ],
        )
        agreement = await agreements.create_agreement(db, settings, ACTOR, data, activate=item.activate)
        made[item.tenant] = agreement.id
        if not item.activate:
            continue
        if item.deposit_pence:
            await deposits.record(db, ACTOR, agreement.id, action=deposits.RECEIVED, on=item.start)
        if item.notice is not None:
            given_on, ends_on = item.notice
            await agreements.give_notice(
                db, settings, ACTOR, agreement.id, given_on, ends_on, "Moving to the council's new advice hub"
            )
        if item.ended is not None:
            await agreements.end_agreement(db, settings, ACTOR, agreement.id, item.ended[0], item.ended[1])
        if item.renew:
            await agreements.renew(db, settings, ACTOR, agreement.id, RenewIn())
    return made


# Two tenants behind with their rent: their invoices since September are unpaid (the alerts and the
# aged debt show them).
IN_ARREARS = frozenset({"Wyre Men's Shed", "Fleetwood Refugee Welcome"})
# Meeting-room hours used this month: (tenant, room, day of the month, start, end).
HOURS_USED = (
    ("Fleetwood Food Bank", "Meeting Room 1", 1, "09:30", "11:30"),
    ("Fylde Coast Minds", "Meeting Room 2", 1, "13:00", "16:00"),
    ("Bay Advice Centre", "Meeting Room 1", 2, "10:00", "12:00"),
    ("Fleetwood Community Credit Union", "Meeting Room 2", 2, "09:00", "10:30"),
    ("Wyre Carers Network", "Meeting Room 1", 3, "14:00", "15:30"),
)
BILLED_MONTHS = 4  # this month and the three before it


def _first_of_month(today: date, months_ago: int) -> date:
    return add_months(today.replace(day=1), -months_ago)


async def seed_billed_history(db: AsyncSession, settings: Settings, organisations: dict[str, int]) -> None:
    """The monthly billing run's tenants part for this month and the three before, each month's
    charges invoiced at its end (today for this month) and paid ten days later — except by the two
    tenants in arrears, and this month's, which are not yet due."""
    from hub.billing.demo import demo_settings
    from hub.billing.models import Charge, ChargeStatus, PaymentMethod
    from hub.billing.schemas import AllocationIn, InvoiceCreate, PaymentCreate
    from hub.billing.services import invoices, payments
    from tenants.services.billing import SOURCE_TYPE, post_periodic_charges

    settings = demo_settings(settings)
    today = settings.today()
    names = {org_id: name for name, org_id in organisations.items()}
    for months_ago in range(BILLED_MONTHS - 1, -1, -1):
        first = _first_of_month(today, months_ago)
        last = add_months(first, 1) - timedelta(days=1)
        await post_periodic_charges(db, settings, ACTOR, first, last)
        rows = (
            await db.execute(
                select(Charge.organisation_id, Charge.id)
                .where(Charge.source_type == SOURCE_TYPE, Charge.status == ChargeStatus.OPEN.value)
                .order_by(Charge.organisation_id, Charge.id)
            )
        ).all()
        by_org: dict[int, list[int]] = {}
        for org_id, charge_id in rows:
            by_org.setdefault(org_id, []).append(charge_id)
        issued_on = min(last, today)
        for org_id, charge_ids in by_org.items():
            invoice = await invoices.create_invoice(
                db,
                settings,
                ACTOR,
                InvoiceCreate(
                    organisation_id=org_id,
                    charge_ids=charge_ids,
                    notes=f"Rent and service charges, {first:%B %Y}",
                ),
                on=issued_on,
            )
            if months_ago == 0 or names.get(org_id) in IN_ARREARS:
                continue
            await payments.record_payment(
                db,
                settings,
                ACTOR,
                PaymentCreate(
                    organisation_id=org_id,
                    method=PaymentMethod.BACS,
                    amount_pence=invoice.gross_pence,
                    received_on=min(issued_on + timedelta(days=10), today),
                    reference=f"Standing order {invoice.number_text}",
                    allocations=[AllocationIn(invoice_id=invoice.id, amount_pence=invoice.gross_pence)],
                ),
            )


async def seed_hours_used(db: AsyncSession, settings: Settings, organisations: dict[str, int]) -> None:
    """Tenants' bookings of the meeting rooms this month, priced against their included hours."""
    from hub.errors import DomainError
    from hub.modules import Module, Registry
    from rooms import HIRE_ALLOWANCE
    from rooms.models import Room, Visibility
    from rooms.schemas import BookingCreate
    from rooms.services import bookings
    from rooms.services.localtime import combine_local
    from tenants.services.allowance import hire_allowance

    # Priced as the app prices them: rooms asks tenants' allowance (the plugin is not imported
    # here, which would be an import cycle).
    registry = Registry([Module(name="tenants", provides={HIRE_ALLOWANCE: hire_allowance})])
    zone = settings.zone
    today = settings.today()
    rooms_by_name = dict((await db.execute(select(Room.name, Room.id))).all())
    for tenant, room, day_of_month, start, end in HOURS_USED:
        if tenant not in organisations or room not in rooms_by_name:
            continue
        day = today.replace(day=day_of_month)
        data = BookingCreate(
            room_id=rooms_by_name[room],
            organisation_id=organisations[tenant],
            title="Team meeting",
            start=combine_local(day, time.fromisoformat(start), zone),
            end=combine_local(day, time.fromisoformat(end), zone),
            category="meeting",
            visibility=Visibility.PRIVATE,
        )
        try:
            await bookings.create_booking(db, settings, ACTOR, data, registry=registry)
        except DomainError:
            await db.rollback()  # a shut day or a clash in the rooms' demo: the demo goes on


async def seed(db: AsyncSession, settings: Settings, organisations: dict[str, int]) -> None:
    """The tenants module's part of the demo hub (``Module.demo``): agreements, four months of
    rent billed, two tenants in arrears, and this month's meeting-room hours."""
    await seed_agreements(db, settings, organisations)
    await seed_billed_history(db, settings, organisations)
    await seed_hours_used(db, settings, organisations)
