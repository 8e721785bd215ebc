"""Demo data: a Fleetwood-style community hub, made through the same services staff use.

Every later capability adds its part here (rooms, bookings, invoices, café, tenants).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.models import OrganisationKind, Role
from hub.schemas import ContactIn, OrganisationCreate, UserCreate
from hub.services import accounts, organisations

K = OrganisationKind


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    email: str
    password: str
    name: str
    organisation: str | None = None


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin(Role.ADMIN, "admin@hub.test", "admin-demo-pass", "Amira Shah (hub manager)"),
    DemoLogin(Role.RECEPTIONIST, "reception@hub.test", "reception-demo-pass", "Rob Kettle (reception)"),
    DemoLogin(Role.TRUSTEE, "trustee@hub.test", "trustee-demo-pass", "Margaret Ince (treasurer)"),
    DemoLogin(Role.TENANT, "tenant@hub.test", "tenant-demo-pass", "Dean Walsh", "Coastal Youth Trust"),
    DemoLogin(Role.TENANT, "foodbank@hub.test", "foodbank-demo-pass", "Priya Nair", "Fleetwood Food Bank"),
    DemoLogin(Role.CAFE, "cafe@hub.test", "cafe-demo-pass", "Liam Hart (café)"),
    DemoLogin(
        Role.CAFE_SUPERVISOR,
        "cafe.supervisor@hub.test",
        "supervisor-demo-pass",
        "Sue Brennan (café supervisor)",
    ),
)


def _org(
    name: str,
    kind: OrganisationKind,
    town: str = "Fleetwood",
    postcode: str = "FY7 6HP",
    *,
    line1: str = "",
    charity: str | None = None,
    company: str | None = None,
    email: str | None = None,
    contacts: tuple[tuple[str, str, str, str], ...] = (),
    notes: str = "",
) -> OrganisationCreate:
    return OrganisationCreate(
        name=name,
        kind=kind,
        charity_number=charity,
        company_number=company,
        address_line1=line1,
        town=town,
        postcode=postcode,
        billing_email=email,
        notes=notes,
        contacts=[ContactIn(name=n, email=e or None, phone=p or None, role=r) for n, e, p, r in contacts],
    )


DEMO_ORGANISATIONS: tuple[OrganisationCreate, ...] = (
    _org(
        "Lancashire Coast NHS Foundation Trust",
        K.NHS,
        "Blackpool",
        "FY3 8NR",
        line1="Whinney Heys Road",
        email="invoices@lancscoast-nhs.test",
        contacts=(
            ("Dr Helen Okafor", "outpatients@lancscoast-nhs.test", "01253 300000", "Outpatient clinics lead"),
        ),
        notes="Outpatient clinics Tue/Thu in consulting rooms 1-3. Bookings are private.",
    ),
    _org(
        "Fylde Coast CAMHS",
        K.NHS,
        "Blackpool",
        "FY4 4AB",
        line1="Mental Health Services, Bispham Road",
        email="camhs.finance@lancscoast-nhs.test",
        contacts=(("Tom Whitehead", "camhs@lancscoast-nhs.test", "01253 300100", "Team manager"),),
        notes="Child and adolescent mental health sessions: always private.",
    ),
    _org(
        "Wyre Council Community Services",
        K.STATUTORY,
        "Poulton-le-Fylde",
        "FY6 7PU",
        line1="Civic Centre, Breck Road",
        email="payments@wyre-council.test",
        contacts=(
            ("Janet Lowe", "communities@wyre-council.test", "01253 891000", "Community development officer"),
        ),
    ),
    _org(
        "Lancashire Police — Fleetwood Neighbourhood Team",
        K.STATUTORY,
        "Fleetwood",
        "FY7 6QJ",
        line1="Fleetwood Police Station, North Albert Street",
        contacts=(("PCSO Ian Grimshaw", "fleetwood.nht@police.test", "", "Drop-in surgeries"),),
    ),
    _org(
        "Fleetwood Food Bank",
        K.VCSE,
        charity="1170123",
        line1="Office 4, The Hub, Pharos Street",
        email="treasurer@fleetwoodfoodbank.test",
        contacts=(
            ("Priya Nair", "priya@fleetwoodfoodbank.test", "07700 900123", "Coordinator"),
            ("Ken Aspinall", "ken@fleetwoodfoodbank.test", "", "Treasurer"),
        ),
    ),
    _org(
        "Coastal Youth Trust",
        K.VCSE,
        charity="1161234",
        company="09876543",
        line1="Office 2, The Hub, Pharos Street",
        email="accounts@coastalyouth.test",
        contacts=(("Dean Walsh", "dean@coastalyouth.test", "07700 900456", "Youth work manager"),),
    ),
    _org(
        "Fleetwood Community Credit Union",
        K.VCSE,
        company="IP031234",
        line1="Office 6, The Hub, Pharos Street",
        email="office@fleetwoodcu.test",
        contacts=(("Grace Fielding", "grace@fleetwoodcu.test", "", "Branch lead"),),
    ),
    _org(
        "Wyre Carers Network",
        K.VCSE,
        charity="1182345",
        line1="12 Lord Street",
        postcode="FY7 6DS",
        contacts=(("Bernadette Rowe", "hello@wyrecarers.test", "01253 870000", "Carers support worker"),),
    ),
    _org(
        "Harbour Art Group",
        K.COMMUNITY_GROUP,
        line1="c/o 3 Dock Street",
        postcode="FY7 6JN",
        contacts=(("Alan Pike", "alan.pike@harbourart.test", "", "Secretary"),),
        notes="Weekly painting session, Wednesday mornings, art studio.",
    ),
    _org(
        "Fleetwood Digital Skills Club",
        K.COMMUNITY_GROUP,
        line1="c/o The Hub, Pharos Street",
        contacts=(("Naomi Brooks", "naomi@digitalskills.test", "", "Volunteer tutor"),),
    ),
    _org(
        "Jo Marsh — Chair-Based Exercise",
        K.INDIVIDUAL,
        line1="27 Poulton Road",
        postcode="FY7 7BL",
        email="jo.marsh@example.test",
        contacts=(("Jo Marsh", "jo.marsh@example.test", "07700 900789", "Instructor"),),
    ),
    _org(
        "Active Coast Fitness Ltd",
        K.COMMERCIAL,
        "Thornton-Cleveleys",
        "FY5 1AB",
        company="12345678",
        line1="Unit 4, Victoria Road West",
        email="accounts@activecoast.test",
        contacts=(("Ryan Cole", "ryan@activecoast.test", "", "Director"),),
    ),
    _org(
        "Pharos Kitchen CIC",
        K.VCSE,
        company="13456789",
        line1="The Hub Café, Pharos Street",
        email="manager@pharoskitchen.test",
        contacts=(("Sue Brennan", "sue@pharoskitchen.test", "", "Café manager"),),
        notes="Social enterprise that runs the community café.",
    ),
)

ARCHIVED_ORGANISATION = _org(
    "Old Town Bowls Club",
    K.COMMUNITY_GROUP,
    line1="Memorial Park",
    postcode="FY7 7AB",
    notes="Folded in 2025; kept for the history of its bookings.",
)


async def seed(db: AsyncSession) -> dict[str, int]:
    """Fill an empty, migrated database. Returns organisation ids by name."""
    actor = Identity.system("demo data")
    ids: dict[str, int] = {}
    for data in DEMO_ORGANISATIONS:
        org = await organisations.create(db, actor, data)
        ids[org.name] = org.id
    archived = await organisations.create(db, actor, ARCHIVED_ORGANISATION)
    await organisations.set_active(
        db, actor, archived.id, active=False, reason="Club wound up; no longer hires rooms"
    )
    for login in DEMO_LOGINS:
        await accounts.create_user(
            db,
            actor,
            UserCreate(
                email=login.email,
                name=login.name,
                role=login.role,
                password=login.password,
                organisation_id=ids[login.organisation] if login.organisation else None,
            ),
        )
    return ids
