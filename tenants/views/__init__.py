"""The tenants pages (server-rendered; thin in the same way as the API)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from tenants.views import staff

ROUTES: list[ControllerRouterHandler] = [*staff.ROUTES]
NAV = [*staff.NAV]
