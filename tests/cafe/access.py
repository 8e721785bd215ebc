"""Who may call the cafe routes, written from the issue and DESIGN §6 (never read from the routes).

Merged into ``tests/hub/test_permissions.py``'s table; ``PATH_VALUES`` gives the walk a value for
each path parameter these routes use (an id that does not exist is fine: a 404 is "let in")."""

from __future__ import annotations

from tests.hub.access_rules import ADMIN, CAFE, CAFE_SUPERVISOR, EVERYONE, Rule, rule

# The café pages (issue 14 "The till screen (role cafe)"; DESIGN §6 "cafe: the till; a
# cafe_supervisor also opens/closes sessions, refunds and voids"; admin may do everything).
TILL_PEOPLE = frozenset({CAFE, CAFE_SUPERVISOR, ADMIN})
SUPERVISORS = frozenset({CAFE_SUPERVISOR, ADMIN})

ACCESS: dict[str, Rule] = {
    # The till's script, styles and service worker carry no data, like the core's static files.
    "cafe static files": rule(EVERYONE, "GET /static/cafe/{file_path}"),
    "cafe pages: the till and what staff read": rule(
        TILL_PEOPLE,
        "GET /till",
    ),
}

PATH_VALUES: dict[str, str] = {}
