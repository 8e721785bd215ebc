"""The till: a touch-first sales screen. The page is a shell; ``/static/cafe/till.js`` loads the menu
and the open sessions from the café API, keeps the basket, and queues each sale (with the UUID it
makes) in the browser's IndexedDB until the server has answered, so the till goes on selling when
the connection drops. The service worker (``/static/cafe/till-sw.js``) keeps the page, its files and
the last menu so the page also reloads offline."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from hub.auth import CAFE_ROLES, roles
from hub.deps import Caller
from hub.models import Role
from hub.web import render

TILL_ROLES = roles(CAFE_ROLES, Role.ADMIN)
SUPERVISORS = frozenset({Role.CAFE_SUPERVISOR, Role.ADMIN})


@get("/till", opt=TILL_ROLES, include_in_schema=False)
async def till_page(request: Request[Any, Any, Any], identity: Caller) -> Template:
    return render(
        request,
        "cafe/till.html",
        title="Till",
        supervisor=identity.role in SUPERVISORS,
    )
