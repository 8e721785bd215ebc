"""Who may call the backup routes, written from issue 18 and DESIGN §6 (never read from the routes).

Issue 18 item 1: "A page for admins lists recent backups and their status". A backup is the whole
database — every organisation's contacts, every invoice, every account's password hash — so only
admins ("everything, including users") may list them or make one; receptionists, trustees, tenants
and café staff may not, and anonymous callers are refused.

Merged into ``tests/hub/test_permissions.py``'s table; ``PATH_VALUES`` gives the walk a value for
each path parameter these routes use (an id that does not exist is fine: a 404 is "let in")."""

from __future__ import annotations

from tests.hub.access_rules import ADMIN, Rule, rule

ACCESS: dict[str, Rule] = {
    "backups: list them (API)": rule({ADMIN}, "GET /api/v1/backups"),
    "backups: the page and Back up now": rule({ADMIN}, "GET /admin/backups", "POST /admin/backups"),
}

PATH_VALUES: dict[str, str] = {}
