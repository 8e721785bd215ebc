"""The money pages: invoices, an invoice with its actions, statements, aged debt."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from hub.web import NavItem

ROUTES: list[ControllerRouterHandler] = []
NAV: list[NavItem] = []
