"""Who may call the privacy routes, written from issue 18 and DESIGN §6 (never read from the routes).

Merged into ``tests/hub/test_permissions.py``'s table; ``PATH_VALUES`` gives the walk a value for
each path parameter these routes use (an id that does not exist is fine: a 404 is "let in")."""

from __future__ import annotations

from tests.hub.access_rules import ADMIN, Rule, rule

ACCESS: dict[str, Rule] = {
    # Issue 18 item 3: export and erasure are "both admin-only, audited, in the API and on a page".
    # A receptionist handles organisations' contacts day to day but not data-protection requests;
    # trustees change nothing; tenants and café staff see only their own things (DESIGN §6).
    "privacy: data-protection requests (API)": rule(
        {ADMIN},
        "POST /api/v1/privacy/export",
        "POST /api/v1/privacy/erase",
    ),
    "privacy: data-protection requests (pages)": rule(
        {ADMIN},
        "GET /admin/privacy",
        "POST /admin/privacy",
        "POST /admin/privacy/export",
        "POST /admin/privacy/erase",
    ),
}

PATH_VALUES: dict[str, str] = {}
