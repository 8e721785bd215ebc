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
}

PATH_VALUES: dict[str, str] = {"unit_id": "987654", "agreement_id": "987654"}
