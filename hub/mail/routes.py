"""What the mail part of the core brings to the app: its routes (API and pages, the self-service
"forgot password" pages among them), navigation, ``hubkeeper mail`` commands and the background
sender. ``hub/plugin.py`` mounts them with the core's own; ``hub/app.py`` runs :func:`lifespans`
after the database's."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from hub.auth import ADMIN_ONLY
from hub.mail import controllers, views
from hub.mail.background import sender_lifespan
from hub.mail.commands import COMMANDS as MAIL_COMMANDS
from hub.views import password_reset
from hub.web import NavItem

if TYPE_CHECKING:
    import click
    from litestar import Litestar
    from litestar.types import ControllerRouterHandler

    from hub.config import Settings

ROUTES: list[ControllerRouterHandler] = [
    controllers.list_mail,
    controllers.get_mail,
    controllers.retry_mail,
    views.outbox_page,
    views.message_page,
    views.message_retry,
    password_reset.forgot_page,
    password_reset.forgot_submit,
    password_reset.reset_page,
    password_reset.reset_submit,
]
NAV: list[NavItem] = [NavItem("Mail", "/admin/mail", frozenset(ADMIN_ONLY), order=86)]
COMMANDS: list[click.Command] = [*MAIL_COMMANDS]


def lifespans(settings: Settings) -> list[Callable[[Litestar], AbstractAsyncContextManager[None]]]:
    """Background work the app runs while it serves, after the database: the outbox's sender
    (``hub/mail/background.py``). It starts whether or not ``HUB_SMTP_URL`` is set: without it,
    it queues scheduled messages but sends nothing."""
    return [sender_lifespan(settings)]
