"""Every route × every role: who is let in, who gets 401/403.

Who may call what is written out by hand below (``ACCESS``), from DESIGN §6 and the README, and
never read from the routes' own declarations: a route opened to the wrong role, or closed to the
right one, fails here. The app is read only to enumerate the routes it serves, so a route the
table does not list fails too, and so does a table entry the app no longer serves.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.app import create_app
from hub.auth import Identity
from hub.billing.models import PaymentMethod
from hub.billing.schemas import ChargeCreate, InvoiceCreate, PaymentCreate
from hub.billing.services import charges, invoices, payments
from hub.models import ApiToken, OrganisationKind, RateBand, Role
from rooms.schemas import RateIn, RoomCreate
from rooms.services import pricing, rooms
from tests.backup import access as backup_access
from tests.cafe import access as cafe_access
from tests.conftest import Hub, base_settings
from tests.hub.access_rules import (
    ADMIN,
    ANONYMOUS,
    EVERYONE,
    RECEPTIONIST,
    SIGNED_IN,
    STAFF,
    TENANT,
    TRUSTEE,
    Rule,
    rule,
)
from tests.mail import access as mail_access
from tests.privacy import access as privacy_access
from tests.reports import access as reports_access
from tests.tenants import access as tenants_access

EXEMPT_PREFIXES = ("/static", "/schema")

# Who may call what. Every route the app serves is in exactly one entry.
ACCESS: dict[str, Rule] = {
    # DESIGN §6 "public: the public what's-on page and public feeds"; signing in must be reachable
    # before one has signed in; /healthz is for load balancers (README "The API"); a private feed's
    # long random token is its credential because calendar clients cannot sign in (DESIGN §5);
    # Stripe cannot sign in, the webhook's signature is its authentication (DESIGN §2); the OpenAPI
    # description, static files and the icon carry no data. Signed-in callers may of course use them too.
    "public pages, feeds, sign-in, webhook": rule(
        EVERYONE,
        "GET /",
        "GET /favicon.ico",
        "GET /healthz",
        "GET /login",
        "POST /login",
        "GET /whats-on",
        "GET /feeds/building.ics",
        "GET /feeds/rooms/{room_file}",
        "GET /feeds/categories/{category_file}",
        "GET /feeds/private/{token_file}",
        "POST /webhooks/stripe",
        "GET /static/{file_path}",
        "GET /schema",
        "GET /schema/openapi.json",
        "GET /schema/openapi.yaml",
        "GET /schema/openapi.yml",
        "GET /schema/{path}",
    ),
    # One's own account, for every signed-in role: signing out, who am I, one's own API tokens and
    # one's own secret calendar addresses. These change none of the hub's records, only the
    # caller's own credentials, like signing in and out; so they are not the "write" a trustee is
    # barred from (DESIGN §6), and a trustee or café worker must be able to revoke a leaked token
    # or feed address of their own. Café roles: "the till and their own account".
    "own account": rule(
        SIGNED_IN,
        "POST /logout",
        "GET /api/v1/me",
        "GET /account",
        "GET /account/tokens",
        "POST /account/tokens",
        "POST /account/tokens/{token_id}/revoke",
        "GET /api/v1/tokens",
        "POST /api/v1/tokens",
        "POST /api/v1/tokens/{token_id}/revoke",
        "GET /account/calendars",
        "POST /account/calendars/{kind}/rotate",
        "POST /account/calendars/{kind}/revoke",
    ),
    # DESIGN §6: admin "everything, including users"; README: "Admins manage accounts, roles".
    # Not the receptionist (organisations and bookings, not accounts). The audit log records who
    # signed in and changed what about people: it is account administration, not one of the
    # trustees' reports (income, arrears, room use, community impact — README), so admin only.
    "users and the audit log": rule(
        {ADMIN},
        "GET /admin/users",
        "POST /admin/users",
        "GET /admin/users/{user_id}",
        "POST /admin/users/{user_id}",
        "POST /admin/users/{user_id}/password",
        "GET /api/v1/users",
        "POST /api/v1/users",
        "GET /api/v1/users/{user_id}",
        "PATCH /api/v1/users/{user_id}",
        "POST /api/v1/users/{user_id}/password",
        "GET /admin/audit",
        "GET /api/v1/audit",
    ),
    # DESIGN §6: admin "rooms, rates"; README: admins manage "the building itself" — rooms, rates,
    # opening hours, closures and the activity categories. The receptionist books rooms; it does
    # not reconfigure them.
    "the building's set-up (changes)": rule(
        {ADMIN},
        "POST /api/v1/rooms",
        "PATCH /api/v1/rooms/{room_id}",
        "PUT /api/v1/rates",
        "PUT /api/v1/opening-hours",
        "PUT /api/v1/categories",
        "POST /api/v1/closures",
        # The room page's "Tenants may book this room themselves" (issue 13): a room's set-up.
        "POST /desk/rooms/{room_id}/tenant-bookable",
    ),
    # The building's facts and when rooms are free: staff need them to book; trustees read
    # everything (room use is one of their figures); a tenant needs them to read its own bookings
    # and to book within its allowance (DESIGN §6). Café roles have only the till (DESIGN §6).
    "rooms, categories, opening hours, closures, availability (read)": rule(
        {ADMIN, RECEPTIONIST, TRUSTEE, TENANT},
        "GET /api/v1/rooms",
        "GET /api/v1/rooms/{room_id}",
        "GET /api/v1/rooms/{room_id}/free-slots",
        "GET /api/v1/availability",
        "GET /api/v1/categories",
        "GET /api/v1/opening-hours",
        "GET /api/v1/closures",
    ),
    # Rates are prices: the receptionist quotes them, trustees read every figure. DESIGN §6 gives
    # a tenant its own bookings and invoices, not the price list.
    "rates (read)": rule({ADMIN, RECEPTIONIST, TRUSTEE}, "GET /api/v1/rates"),
    # Reading bookings: staff all of them; trustees all of them with other organisations' private
    # ones as "Private booking"; a tenant its own organisation's (others' answer 404). /calendar is
    # the read-only day of the building; admin may do everything and the receptionist reads every
    # booking, so neither is refused it.
    "bookings (read)": rule(
        {ADMIN, RECEPTIONIST, TRUSTEE, TENANT},
        "GET /api/v1/bookings",
        "GET /api/v1/bookings/{booking_id}",
        "GET /api/v1/series/{series_id}",
        "GET /calendar",
    ),
    # Issue 13 item 6, DESIGN §6 tenant "book within its allowance": a tenant books a
    # tenant-bookable room for its own organisation (with the live quote) and cancels its own
    # booking; the rest of the booking routes stay with staff.
    "bookings a tenant makes itself": rule(
        {ADMIN, RECEPTIONIST, TENANT},
        "POST /api/v1/bookings",
        "POST /api/v1/bookings/{booking_id}/cancel",
        "POST /api/v1/quotes",
    ),
    # Issue 13 item 6: a tenant's own booking opens as a page ("a list of their own bookings ...
    # that they can open"; others' answer 404), where it can cancel it. Staff are sent to the
    # desk's page for the booking; trustees read the building's day, not bookings' pages.
    "a tenant's own booking (page)": rule({ADMIN, RECEPTIONIST, TENANT}, "GET /my/bookings/{booking_id}"),
    "a tenant cancels its own booking (page)": rule({TENANT}, "POST /my/bookings/{booking_id}/cancel"),
    # DESIGN §6: receptionist "bookings for anyone". A quote or series preview is a POST that
    # belongs to making a booking; trustees make none ("no write of any kind"). A tenant neither
    # changes, confirms nor checks in bookings: only the office does (issue 13: "no overrides").
    "bookings (changes)": rule(
        STAFF,
        "PATCH /api/v1/bookings/{booking_id}",
        "POST /api/v1/bookings/{booking_id}/check-in",
        "POST /api/v1/bookings/{booking_id}/confirm",
        "POST /api/v1/bookings/{booking_id}/no-show",
        "POST /api/v1/series",
        "POST /api/v1/series/preview",
        "POST /api/v1/series/{series_id}/end",
        "POST /api/v1/series/{series_id}/cancel-rest",
        "POST /desk/bookings/new",
        "POST /desk/bookings/{booking_id}",
        "POST /desk/bookings/{booking_id}/cancel",
        "POST /desk/bookings/{booking_id}/check-in",
        "POST /desk/bookings/{booking_id}/confirm",
        "POST /desk/bookings/{booking_id}/no-show",
        "POST /desk/series/new",
        "POST /desk/series/{series_id}",
    ),
    # DESIGN §6: receptionist "the desk". Its pages show every booking's title, organisation and
    # contact, which trustees must not see for others' private bookings (DESIGN §6), and they exist
    # to change bookings; trustees and tenants read the day on /calendar instead.
    "the desk (pages)": rule(
        STAFF,
        "GET /desk",
        "GET /desk/find",
        "GET /desk/bookings/new",
        "GET /desk/bookings/{booking_id}",
        "GET /desk/rooms/{room_id}",
        "GET /desk/series/new",
        "GET /desk/series/{series_id}",
    ),
    # An organisation's record: staff and trustees read all; a tenant reads its own (a list
    # answers with its own only; another's answers 404). The Organisations page is the directory
    # for finding among all of them (search, kinds, archived): for those who read all of them.
    "organisations (read)": rule(
        {ADMIN, RECEPTIONIST, TRUSTEE, TENANT},
        "GET /api/v1/organisations",
        "GET /api/v1/organisations/{organisation_id}",
        "GET /organisations/{organisation_id}",
    ),
    "organisations directory (page)": rule({ADMIN, RECEPTIONIST, TRUSTEE}, "GET /organisations"),
    # DESIGN §6: receptionist "organisations". The form to add one exists only to add one.
    "organisations (changes)": rule(
        STAFF,
        "POST /api/v1/organisations",
        "PATCH /api/v1/organisations/{organisation_id}",
        "POST /api/v1/organisations/{organisation_id}/archive",
        "POST /api/v1/organisations/{organisation_id}/restore",
        "GET /organisations/new",
        "POST /organisations/new",
        "POST /organisations/{organisation_id}",
        "POST /organisations/{organisation_id}/archive",
        "POST /organisations/{organisation_id}/restore",
    ),
    # Money documents: staff and trustees read all (trustees "read every report and ledger
    # figure"); a tenant reads its own organisation's invoices and statement (DESIGN §6, README),
    # and the charges and payments behind them (a charge is a line of its next invoice, a payment
    # settles its invoices); another organisation's answer 404.
    "invoices, charges, payments, statements (read)": rule(
        {ADMIN, RECEPTIONIST, TRUSTEE, TENANT},
        "GET /api/v1/charges",
        "GET /api/v1/charges/{charge_id}",
        "GET /api/v1/invoices",
        "GET /api/v1/invoices/{invoice_id}",
        "GET /api/v1/payments",
        "GET /api/v1/payments/{payment_id}",
        "GET /api/v1/organisations/{organisation_id}/statement",
        "GET /invoices",
        "GET /invoices/{invoice_file}",
        "GET /invoices/{invoice_id}/print",
        "GET /organisations/{organisation_id}/statement",
    ),
    # Who owes what, across organisations: a report for trustees and the receptionist's work of
    # chasing invoices; not a tenant's (it names other organisations' debts).
    "aged debt": rule({ADMIN, RECEPTIONIST, TRUSTEE}, "GET /api/v1/aged-debt", "GET /debt"),
    # The income ledger is the trustees' figures (DESIGN §6 "every ... ledger figure"); the
    # receptionist's part is invoices and payments, not the books.
    "the ledger": rule({ADMIN, TRUSTEE}, "GET /api/v1/ledger", "GET /api/v1/ledger/check"),
    # DESIGN §6: receptionist "invoices and payments"; trustees "change nothing"; tenants only pay.
    # The charges page, the billing run and the new-invoice form are where charges are added and
    # invoiced: work pages whose purpose is a change (trustees read charges through the API).
    "invoices, charges, payments (changes)": rule(
        STAFF,
        "POST /api/v1/charges",
        "POST /api/v1/charges/{charge_id}/cancel",
        "POST /api/v1/invoices",
        "POST /api/v1/invoices/{invoice_id}/issue",
        "POST /api/v1/invoices/{invoice_id}/void",
        "POST /api/v1/invoices/{invoice_id}/credit-notes",
        "POST /api/v1/payments",
        "POST /api/v1/payments/{payment_id}/allocations",
        "POST /api/v1/payments/{payment_id}/refund",
        "GET /charges",
        "POST /charges",
        "POST /charges/{charge_id}/cancel",
        "GET /invoices/billing-run",
        "POST /invoices/billing-run",
        "GET /invoices/new",
        "POST /invoices/new",
        "POST /invoices/for-source/{source_type}/{source_id}",
        "POST /invoices/{invoice_id}/issue",
        "POST /invoices/{invoice_id}/void",
        "POST /invoices/{invoice_id}/credit-notes",
        "POST /invoices/{invoice_id}/payments",
        "POST /invoices/{invoice_id}/refunds",
    ),
    # "Pay now": a tenant on its own invoices (README), staff taking a card for anyone ("invoices
    # and payments"). DESIGN §6: trustees change nothing, "Pay now included" — page and API alike.
    "pay now": rule(
        {ADMIN, RECEPTIONIST, TENANT},
        "POST /api/v1/invoices/{invoice_id}/pay",
        "GET /invoices/{invoice_id}/pay",
    ),
    # Issue 18 "statement on request": staff for anyone ("organisations, invoices and payments"),
    # a tenant for its own organisation (its invoices are its own business, DESIGN §6; another's
    # answers 404); sending mail is a write, and trustees change nothing.
    "email a statement": rule(
        {ADMIN, RECEPTIONIST, TENANT},
        "POST /api/v1/organisations/{organisation_id}/statement/email",
        "POST /organisations/{organisation_id}/statement/email",
    ),
}

# Each module keeps its own part of the table beside its tests (``tests/<module>/access.py``: an
# ``ACCESS`` dict of the same shape, written from the module's issue, and ``PATH_VALUES`` for the
# walk's path parameters). They are merged here; a name used twice fails.
for _part in (cafe_access, tenants_access, reports_access, mail_access, backup_access, privacy_access):
    assert not set(_part.ACCESS) & set(ACCESS), f"{_part.__name__}: entry names already used"
    ACCESS.update(_part.ACCESS)


def _normalise(path: str) -> str:
    """``/x/{id:int}`` → ``/x/{id}``: the table names parameters, not their types."""
    return re.sub(r"\{(\w+):[^}]+\}", r"{\1}", path)


def _table() -> dict[str, frozenset[str]]:
    """Route → who may call it; fails on a route listed twice or an unknown role."""
    table: dict[str, frozenset[str]] = {}
    twice = []
    for name, entry in ACCESS.items():
        assert entry.who <= EVERYONE, f"{name}: unknown roles {sorted(entry.who - EVERYONE)}"
        for route in entry.routes:
            if route in table:
                twice.append(route)
            table[route] = entry.who
    assert twice == [], "routes listed in more than one entry"
    return table


def http_handlers(app: Litestar) -> list[tuple[str, str, Any]]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, handler in route.route_handler_map.items():
            if method in ("HEAD", "OPTIONS"):
                continue
            found.append((method, route.path, handler[0] if isinstance(handler, tuple) else handler))
    return sorted(found, key=lambda item: (item[1], item[0]))


def _served(app: Litestar) -> list[tuple[str, str]]:
    """(method, path as declared) for every route the app serves; used only to enumerate."""
    return [(method, path) for method, path, _handler in http_handlers(app)]


def test_the_table_names_every_role() -> None:
    assert {role.value for role in Role} == SIGNED_IN


def test_the_table_lists_exactly_the_routes_the_app_serves() -> None:
    app = create_app(base_settings("sqlite+aiosqlite:///:memory:"))
    served = [f"{method} {_normalise(path)}" for method, path in _served(app)]
    table = _table()
    unlisted = [route for route in served if route not in table]
    not_served = sorted(set(table) - set(served))
    assert (unlisted, not_served) == ([], []), "(routes with no entry in ACCESS, entries not served)"


def test_every_route_states_who_may_call_it() -> None:
    app = create_app(base_settings("sqlite+aiosqlite:///:memory:"))
    missing = [
        f"{method} {path}"
        for method, path, handler in http_handlers(app)
        if not path.startswith(EXEMPT_PREFIXES)
        and not handler.opt.get("public")
        and "roles" not in handler.opt
    ]
    assert missing == []


def test_public_routes_are_only_the_expected_ones() -> None:
    app = create_app(base_settings("sqlite+aiosqlite:///:memory:"))
    public = {
        f"{method} {path}"
        for method, path, handler in http_handlers(app)
        if handler.opt.get("public") and not path.startswith(EXEMPT_PREFIXES)
    }
    feeds = {
        f"GET /feeds/{path}"  # (and HEAD, which http_handlers leaves out)
        for path in (
            "building.ics",
            "rooms/{room_file:str}",
            "categories/{category_file:str}",
            "private/{token_file:str}",
        )
    }
    # Stripe's webhook is public (Stripe cannot sign in): its signature is its authentication.
    expected = {"GET /", "GET /favicon.ico", "GET /healthz", "GET /login", "POST /login", "GET /whats-on"}
    expected.add("POST /webhooks/stripe")
    # Forgot-password (issue 18): whoever has forgotten their password cannot sign in to ask.
    expected |= {
        "GET /password/forgot",
        "POST /password/forgot",
        "GET /password/reset/{token:str}",
        "POST /password/reset/{token:str}",
    }
    assert public == expected | feeds


# -- the walk ---------------------------------------------------------------------------------------

SYSTEM = Identity.system("permissions test")


def _make_objects(hub: Hub, org_id: int) -> dict[str, str]:
    """Real objects of the tenant's organisation (and one other person's account and token), so
    an allowed call reaches its handler's own rules, and path values for every parameter."""
    settings = hub.client.app.state.settings
    room = hub.run(lambda db: rooms.create_room(db, SYSTEM, RoomCreate(name="Matrix Room", capacity=10)))
    rate = RateIn(room_id=room.id, band=RateBand.COMMUNITY, hourly_pence=1_200)
    hub.run(lambda db: pricing.set_rate(db, SYSTEM, rate))
    series = hub.client.post(
        "/api/v1/series",
        json={
            "room_id": room.id,
            "organisation_id": org_id,
            "title": "Matrix class",
            "category": "class",
            "first_date": "2027-03-16",
            "start_time": "10:00",
            "end_time": "11:00",
            "rule": {"freq": "weekly", "count": 2},
        },
        headers=hub.headers_for(Role.RECEPTIONIST),
    )
    assert series.status_code == 201, series.text
    today = settings.today()
    charge = ChargeCreate(
        organisation_id=org_id, description="Extra cleaning", net_pence=5_000, supply_date=today
    )
    charge_id = hub.run(lambda db: charges.create_manual(db, SYSTEM, charge)).id
    invoice = InvoiceCreate(organisation_id=org_id, charge_ids=[charge_id])
    invoice_id = hub.run(lambda db: invoices.create_invoice(db, settings, SYSTEM, invoice)).id
    payment = PaymentCreate(
        organisation_id=org_id, method=PaymentMethod.BACS, amount_pence=1_000, received_on=today
    )
    payment_id = hub.run(lambda db: payments.record_payment(db, settings, SYSTEM, payment)).id
    open_charge = ChargeCreate(
        organisation_id=org_id, description="Lost key", net_pence=1_500, supply_date=today
    )
    open_charge_id = hub.run(lambda db: charges.create_manual(db, SYSTEM, open_charge)).id
    other = hub.make_user(Role.TRUSTEE)
    hub.token_for(other)

    async def token_of(db: AsyncSession) -> int:
        token_id = await db.scalar(select(ApiToken.id).where(ApiToken.user_id == other.id))
        assert token_id is not None
        return token_id

    return {
        "organisation_id": str(org_id),
        "user_id": str(other.id),
        "token_id": str(hub.run(token_of)),
        "room_id": str(room.id),
        "booking_id": str(series.json()["booked"][0]["id"]),
        "source_type": "booking",
        "source_id": str(series.json()["booked"][0]["id"]),
        "series_id": str(series.json()["id"]),
        "charge_id": str(open_charge_id),
        "invoice_id": str(invoice_id),
        "invoice_file": str(invoice_id),
        "payment_id": str(payment_id),
        "kind": "user",
        "room_file": f"{room.id}.ics",
        "category_file": "class.ics",
        "token_file": "not-a-real-token.ics",
        "file_path": "no-such-file.css",
        "path": "no-such-page",
        **cafe_access.PATH_VALUES,
        **tenants_access.PATH_VALUES,
        **reports_access.PATH_VALUES,
        **mail_access.PATH_VALUES,
        **backup_access.PATH_VALUES,
        **privacy_access.PATH_VALUES,
    }


def _concrete(path: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"{path}: give the walk a value for {{{name}}} in _make_objects"
        return values[name]

    return re.sub(r"\{(\w+)(?::[^}]+)?\}", value, path)


def _call(hub: Hub, method: str, path: str, csrf: str | None) -> Any:
    is_api = path.startswith("/api/")
    headers = {"x-csrf-token": csrf} if (csrf and is_api) else {}
    if method in ("GET", "DELETE"):
        return hub.client.request(method, path, headers=headers, follow_redirects=False)
    if is_api:
        return hub.client.request(method, path, json={}, headers=headers, follow_redirects=False)
    return hub.client.request(method, path, data={"_csrf": csrf or ""}, follow_redirects=False)


def _verdict(who: str, path: str, allowed: bool, response: Any) -> str | None:
    """None if the answer is what the table expects, else what was expected."""
    status = response.status_code
    if allowed:
        return None if status not in (401, 403) and status < 500 else "allowed"
    if who != ANONYMOUS:
        return None if status == 403 else "403"
    if path.startswith("/api/"):
        return None if status == 401 else "401"
    # Pages send an anonymous caller to sign in.
    signing_in = status in (302, 303, 307) and response.headers.get("location", "").startswith("/login")
    return None if signing_in else "redirect to /login"


@pytest.mark.parametrize("who", [ANONYMOUS, *sorted(SIGNED_IN)])
def test_role_route_matrix(hub: Hub, who: str) -> None:
    org_id = hub.make_org("Matrix Organisation", kind=OrganisationKind.VCSE)
    values = _make_objects(hub, org_id)
    hub.client.cookies.clear()
    csrf = hub.csrf("/login")  # anonymous forms carry the cookie-bound token
    if who != ANONYMOUS:
        hub.login_as(Role(who), organisation_id=org_id if who == TENANT else None)
        csrf = hub.csrf("/")
    table = _table()
    routes = _served(hub.client.app)
    # Signing out ends the session the rest of the walk depends on: do it last.
    routes.sort(key=lambda route: route[1] == "/logout")
    mismatches = []
    for method, path in routes:
        key = f"{method} {_normalise(path)}"
        if key not in table:
            mismatches.append((method, _normalise(path), who, "an entry in ACCESS", "none"))
            continue
        if path.startswith("/schema") and who != ANONYMOUS and table[key] == EVERYONE:
            # Litestar's OpenAPI pages take ~1 s a format to render and are the same for every
            # caller; the anonymous walk proves them open, the others would only repeat it.
            continue
        response = _call(hub, method, _concrete(path, values), csrf)
        expected = _verdict(who, path, who in table[key], response)
        if expected is not None:
            mismatches.append((method, _normalise(path), who, expected, str(response.status_code)))
    report = "".join(f"\n  {m} {p} as {w}: expected {e}, got {g}" for m, p, w, e, g in mismatches)
    assert not mismatches, f"{len(mismatches)} routes answer differently from ACCESS:{report}"
