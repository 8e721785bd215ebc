"""The cafe pages (server-rendered; thin in the same way as the API): the till (``till``), the
supervisor's sessions and cash-up, receipts with refunds and voids, the allergen sheet and the menu
(``pages``), and the café's static files (the till's script, styles and service worker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Response
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from cafe.views import menu_pages, session_pages, till
from hub.auth import PUBLIC

STATIC_DIR = Path(__file__).parent.parent / "static"


async def _service_worker_scope(response: Response[Any]) -> Response[Any]:
    # The till's service worker lives with the other files but looks after the till's pages.
    response.headers["Service-Worker-Allowed"] = "/till"
    return response


STATIC = create_static_files_router(
    path="/static/cafe",
    directories=[STATIC_DIR],
    name="cafe-static",
    opt=PUBLIC,
    after_request=_service_worker_scope,
)

ROUTES: list[ControllerRouterHandler] = [STATIC, till.till_page, *menu_pages.ROUTES, *session_pages.ROUTES]
