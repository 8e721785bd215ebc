"""The cafe JSON API under /api/v1 (thin: parse, call a service, answer a schema)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from cafe.controllers.menu import MenuController, PictogramController
from cafe.controllers.till import ReportController, SaleController, SessionController, TillController

API_ROUTES: list[ControllerRouterHandler] = [
    MenuController,
    PictogramController,
    TillController,
    SessionController,
    SaleController,
    ReportController,
]
