"""Who may call the mail routes, written from issue 18 and DESIGN §6 (never read from the routes).

Issue 18 item 2: "with no SMTP set, messages stay in the outbox and the admin page shows them" —
the outbox (every message, to anyone, about anything: invoices, bookings, other people's
addresses) is for admins, DESIGN §6 "admin: everything, including users"; sending a message again
is a change made there. Item 2 also brings a self-service "forgot password": it must work before
one has signed in (one cannot sign in without the password), so it is public, like signing in;
the emailed link's secret is its credential.

Merged into ``tests/hub/test_permissions.py``'s table; ``PATH_VALUES`` gives the walk a value for
each path parameter these routes use (an id that does not exist is fine: a 404 is "let in")."""

from __future__ import annotations

from tests.hub.access_rules import ADMIN, EVERYONE, Rule, rule

ACCESS: dict[str, Rule] = {
    "the outbox (admins)": rule(
        {ADMIN},
        "GET /api/v1/mail/messages",
        "GET /api/v1/mail/messages/{message_id}",
        "POST /api/v1/mail/messages/{message_id}/retry",
        "GET /admin/mail",
        "GET /admin/mail/{message_id}",
        "POST /admin/mail/{message_id}/retry",
    ),
    "forgot password (before signing in)": rule(
        EVERYONE,
        "GET /password/forgot",
        "POST /password/forgot",
        "GET /password/reset/{token}",
        "POST /password/reset/{token}",
    ),
}

PATH_VALUES: dict[str, str] = {"message_id": "987654", "token": "not-a-real-reset-link"}
