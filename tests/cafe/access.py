"""Who may call the cafe routes, written from the issue and DESIGN §6 (never read from the routes).

Merged into ``tests/hub/test_permissions.py``'s table; ``PATH_VALUES`` gives the walk a value for
each path parameter these routes use (an id that does not exist is fine: a 404 is "let in")."""

from __future__ import annotations

from tests.hub.access_rules import ADMIN, CAFE, CAFE_SUPERVISOR, EVERYONE, TRUSTEE, Rule, rule

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
        "GET /till/allergens",
        "GET /till/sessions",
        "GET /till/sales/{sale_uuid}",
    ),
    # "Trustees read reports (GET) only" (CAFE_SPEC.md; DESIGN §6 "read every report").
    "cafe pages: a session's X/Z report": rule(
        TILL_PEOPLE | {TRUSTEE}, "GET /till/sessions/{session_id}/report"
    ),
    # "a cafe_supervisor also opens/closes sessions, refunds and voids" and edits the menu.
    "cafe pages: what a supervisor does": rule(
        SUPERVISORS,
        "POST /till/sessions",
        "GET /till/sessions/{session_id}/close",
        "POST /till/sessions/{session_id}/close",
        "POST /till/sales/{sale_uuid}/refund",
        "POST /till/sales/{sale_uuid}/void",
        "GET /cafe/menu",
        "GET /cafe/menu/new",
        "POST /cafe/menu/new",
        "GET /cafe/menu/{product_id}",
        "POST /cafe/menu/{product_id}",
        "POST /cafe/menu/{product_id}/availability",
        "POST /cafe/menu/{product_id}/picture",
    ),
}

PATH_VALUES: dict[str, str] = {}


# The café's API (issue 14; CAFE_SPEC.md): staff ring sales and read the menu, tills, sessions and
# sales; a supervisor (and an admin) also edits the menu, adds tills, opens and closes sessions,
# refunds and voids; trustees read the reports (a session's X/Z report, café trading) and nothing else.
TRUSTEE_READERS = frozenset({TRUSTEE})
ACCESS.update(
    {
        "cafe API: what the till reads and rings": rule(
            TILL_PEOPLE,
            "GET /api/v1/cafe/menu",
            "GET /api/v1/cafe/categories",
            "GET /api/v1/cafe/products",
            "GET /api/v1/cafe/products/{product_id}",
            "GET /api/v1/cafe/products/{product_id}/picture",
            "GET /api/v1/cafe/pictograms",
            "GET /api/v1/cafe/pictograms/{name}",
            "GET /api/v1/cafe/discounts",
            "GET /api/v1/cafe/tills",
            "GET /api/v1/cafe/sessions",
            "GET /api/v1/cafe/sessions/{session_id}",
            "POST /api/v1/cafe/sales",
            "GET /api/v1/cafe/sales",
            "GET /api/v1/cafe/sales/{sale_uuid}",
        ),
        "cafe API: what a supervisor changes": rule(
            SUPERVISORS,
            "POST /api/v1/cafe/categories",
            "PATCH /api/v1/cafe/categories/{category_id}",
            "POST /api/v1/cafe/products",
            "PATCH /api/v1/cafe/products/{product_id}",
            "PUT /api/v1/cafe/products/{product_id}/picture",
            "POST /api/v1/cafe/discounts",
            "PATCH /api/v1/cafe/discounts/{code}",
            "POST /api/v1/cafe/tills",
            "POST /api/v1/cafe/sessions",
            "POST /api/v1/cafe/sessions/{session_id}/close",
            "POST /api/v1/cafe/sales/{sale_uuid}/refund",
            "POST /api/v1/cafe/sales/{sale_uuid}/void",
        ),
        "cafe API: a session's X/Z report": rule(
            TILL_PEOPLE | TRUSTEE_READERS, "GET /api/v1/cafe/sessions/{session_id}/report"
        ),
        "cafe API: trading report": rule(SUPERVISORS | TRUSTEE_READERS, "GET /api/v1/cafe/reports/trading"),
    }
)
PATH_VALUES.update(
    {
        "product_id": "999999",
        "category_id": "999999",
        "session_id": "999999",
        "sale_uuid": "00000000-0000-4000-8000-000000000000",
        "name": "coffee.svg",
        "code": "nonesuch",
    }
)
