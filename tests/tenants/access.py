"""Who may call the tenants routes, written from the issue and DESIGN §6 (never read from the routes).

Merged into ``tests/hub/test_permissions.py``'s table; ``PATH_VALUES`` gives the walk a value for
each path parameter these routes use (an id that does not exist is fine: a 404 is "let in")."""

from __future__ import annotations

from tests.hub.access_rules import ADMIN, RECEPTIONIST, TENANT, TRUSTEE, Rule, rule

ACCESS: dict[str, Rule] = {
    # Issue 13 item 1: units have an "admin API"; DESIGN §6 admin "everything". The receptionist
    # and trustees read the building's lettings (trustees read everything, write nothing); a
    # tenant sees only its own agreement (issue 13 item 6), not the list of units; café roles
    # have only the till (DESIGN §6).
    "tenants: units (read)": rule(
        {ADMIN, RECEPTIONIST, TRUSTEE},
        "GET /api/v1/units",
        "GET /api/v1/units/{unit_id}",
    ),
    "tenants: units and agreements (changes)": rule(
        {ADMIN},
        "POST /api/v1/units",
        "PATCH /api/v1/units/{unit_id}",
        "POST /api/v1/agreements",
        "PATCH /api/v1/agreements/{agreement_id}",
        "POST /api/v1/agreements/{agreement_id}/activate",
        "POST /api/v1/agreements/{agreement_id}/notice",
        "POST /api/v1/agreements/{agreement_id}/end",
        "POST /api/v1/agreements/{agreement_id}/renew",
        "POST /api/v1/agreements/{agreement_id}/breaks",
        "POST /api/v1/agreements/{agreement_id}/reviews",
        "PUT /api/v1/agreements/{agreement_id}/document",
    ),
    # Issue 13 item 6: a tenant reads its own agreement and the signed document ("served only to
    # staff and that tenant"); another organisation's answers 404 (tested in test_agreements_api).
    "tenants: agreements and their documents (read)": rule(
        {ADMIN, RECEPTIONIST, TRUSTEE, TENANT},
        "GET /api/v1/agreements",
        "GET /api/v1/agreements/{agreement_id}",
        "GET /api/v1/agreements/{agreement_id}/document",
    ),
    # Issue 13 item 5: the alerts are the office's work list; trustees read everything.
    "tenants: alerts": rule({ADMIN, RECEPTIONIST, TRUSTEE}, "GET /api/v1/agreements/alerts"),
    # Issue 13 item 2 (deposit "received, returned or kept, with dates") is part of the agreement,
    # which the admin manages (DESIGN §6: admin "rooms, rates, agreements"); money held moves only
    # at the admin's hand. Item 6: the tenant reads its own hours used and left, as do the office
    # and trustees (trustees read everything); another organisation's answers 404.
    "tenants: deposits": rule({ADMIN}, "POST /api/v1/agreements/{agreement_id}/deposit"),
    "tenants: meeting-room allowance": rule(
        {ADMIN, RECEPTIONIST, TRUSTEE, TENANT}, "GET /api/v1/agreements/{agreement_id}/allowance"
    ),
    # The tenancies pages (issue 13 items 1, 2, 5, 7: "admin pages for units and agreements" and
    # the alerts page). Reading them is the office's and the trustees' (DESIGN §6: trustees read
    # everything); a tenant reads its own agreement in its portal, never the building's list;
    # café roles have only the till.
    "tenants: tenancies pages (read)": rule(
        {ADMIN, RECEPTIONIST, TRUSTEE},
        "GET /tenancies",
        "GET /tenancies/agreements/{agreement_id}",
        "GET /tenancies/units",
        "GET /tenancies/units/{unit_id}",
        "GET /tenancies/alerts",
    ),
    # Issue 13 item 2: the signed document is "served only to staff and that tenant" — staff being
    # the admin and the receptionist (DESIGN §6); the tenant has it through its own portal.
    "tenants: tenancies page's signed document": rule(
        {ADMIN, RECEPTIONIST}, "GET /tenancies/agreements/{agreement_id}/document"
    ),
    # DESIGN §6: admin manages "agreements" (and the building); the receptionist and trustees do
    # not. The new-unit and new-agreement forms exist only to make one.
    "tenants: tenancies pages (changes)": rule(
        {ADMIN},
        "GET /tenancies/agreements/new",
        "POST /tenancies/agreements/new",
        "POST /tenancies/agreements/{agreement_id}",
        "POST /tenancies/agreements/{agreement_id}/activate",
        "POST /tenancies/agreements/{agreement_id}/notice",
        "POST /tenancies/agreements/{agreement_id}/end",
        "POST /tenancies/agreements/{agreement_id}/renew",
        "POST /tenancies/agreements/{agreement_id}/breaks",
        "POST /tenancies/agreements/{agreement_id}/reviews",
        "POST /tenancies/agreements/{agreement_id}/deposit",
        "POST /tenancies/agreements/{agreement_id}/document",
        "GET /tenancies/units/new",
        "POST /tenancies/units/new",
        "POST /tenancies/units/{unit_id}",
    ),
    # Issue 13 item 6, the tenant portal (role tenant): its own bookings, booking a tenant-bookable
    # room with the live quote, its agreement and its statement, all of its own organisation. Staff
    # have the desk and the tenancies pages for these; trustees read, they do not book.
    "tenants: the tenant portal": rule(
        {TENANT},
        "GET /my/bookings",
        "GET /my/book-a-room",
        "POST /my/book-a-room",
        "GET /my/agreement",
        "GET /my/statement",
    ),
}

PATH_VALUES: dict[str, str] = {"unit_id": "987654", "agreement_id": "987654"}
