"""What the privacy part of the core brings to the app: its routes (API and pages), navigation and
``hubkeeper`` commands. ``hub/plugin.py`` mounts them with the core's own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.privacy import controllers, views

if TYPE_CHECKING:
    import click
    from litestar.types import ControllerRouterHandler

    from hub.web import NavItem

ROUTES: list[ControllerRouterHandler] = [*controllers.API_ROUTES, *views.ROUTES]
NAV: list[NavItem] = [*views.NAV]
COMMANDS: list[click.Command] = []
