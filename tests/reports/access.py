"""Who may call the reports routes, written from the issue and DESIGN §6 (never read from the routes).

Issue 15: the reports are "read by ``trustee`` and ``admin``"; DESIGN §6: a trustee "reads every
report and ledger figure; changes nothing" — every reports route is a read. Receptionists work the
desk and money, not the board's figures; tenants see only their own organisation; café roles have
the till and their own account. Anonymous callers are refused (401, or sent to sign in).

Merged into ``tests/hub/test_permissions.py``'s table; ``PATH_VALUES`` gives the walk a value for
each path parameter these routes use (an id that does not exist is fine: a 404 is "let in")."""

from __future__ import annotations

from tests.hub.access_rules import ADMIN, TRUSTEE, Rule, rule

ACCESS: dict[str, Rule] = {
    "trustee reports (read only)": rule(
        {ADMIN, TRUSTEE},
        "GET /api/v1/reports/income",
        "GET /api/v1/reports/debtors",
        "GET /api/v1/reports/utilisation",
        "GET /api/v1/reports/impact",
        "GET /api/v1/reports/cafe",
        "GET /reports",
        "GET /reports/board-pack",
        "GET /reports/board-pack.pdf",
        "GET /reports/{report}",
        "GET /reports/{report}/{table_file}",
    ),
}

PATH_VALUES: dict[str, str] = {"report": "income", "table_file": "streams.csv"}
