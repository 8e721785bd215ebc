"""What the backup part of the core brings to the app: its routes (API and pages), navigation and
``hubkeeper`` commands. ``hub/plugin.py`` mounts them with the core's own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.auth import ADMIN_ONLY
from hub.backup import views
from hub.backup.commands import COMMANDS as BACKUP_COMMANDS
from hub.web import NavItem

if TYPE_CHECKING:
    import click
    from litestar.types import ControllerRouterHandler

ROUTES: list[ControllerRouterHandler] = [views.list_backups, views.backups_page, views.backup_now]
# Beside Accounts (80) and the Audit log (85).
NAV: list[NavItem] = [NavItem("Backups", "/admin/backups", frozenset(ADMIN_ONLY), order=86)]
COMMANDS: list[click.Command] = [*BACKUP_COMMANDS]
