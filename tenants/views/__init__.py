"""The tenants pages (server-rendered; thin in the same way as the API)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from tenants.views import portal, staff

ROUTES: list[ControllerRouterHandler] = [*staff.ROUTES, *portal.ROUTES]
NAV = [*staff.NAV, *portal.NAV]
