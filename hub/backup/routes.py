"""What the backup part of the core brings to the app: its routes (API and pages), navigation and
``hubkeeper`` commands. ``hub/plugin.py`` mounts them with the core's own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.backup.commands import COMMANDS as BACKUP_COMMANDS

if TYPE_CHECKING:
    import click
    from litestar.types import ControllerRouterHandler

    from hub.web import NavItem

ROUTES: list[ControllerRouterHandler] = []
NAV: list[NavItem] = []
COMMANDS: list[click.Command] = [*BACKUP_COMMANDS]
