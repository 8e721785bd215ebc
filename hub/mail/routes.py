"""What the mail part of the core brings to the app: its routes (API and pages), navigation and
``hubkeeper`` commands. ``hub/plugin.py`` mounts them with the core's own."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click
    from litestar import Litestar
    from litestar.types import ControllerRouterHandler

    from hub.config import Settings
    from hub.web import NavItem

ROUTES: list[ControllerRouterHandler] = []
NAV: list[NavItem] = []
COMMANDS: list[click.Command] = []


def lifespans(settings: Settings) -> list[Callable[[Litestar], AbstractAsyncContextManager[None]]]:
    """Background work the app runs while it serves (the outbox's sender), after the database."""
    return []
