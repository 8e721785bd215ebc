"""Mail that is never lost: the hub's public API for sending a message.

A service that causes a message (an invoice issued, a booking confirmed) calls :func:`enqueue`
inside its own transaction, before it commits: the message is written to the outbox with the
change, or not at all. Nothing here talks to a mail server. After commit, ``hub.mail.sender``
sends what is pending, with retries and back-off, each message once even when two senders run.
With no ``HUB_SMTP_URL`` set, messages wait in the outbox and the admin page lists them.

Bodies come from templates: :func:`render` reads ``<package_dir>/templates/mail/<name>.txt`` and
``.html`` (a module passes its own folder; the HTML ones may extend ``mail/_layout.html`` from the
core). Names, subjects and file names with a line break are refused (header injection), as is an
address that does not parse.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.utils import parseaddr
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db import utcnow
from hub.errors import RuleViolation
from hub.mail.models import MailAttachment, MailMessage, MailStatus

if TYPE_CHECKING:
    from hub.auth import Identity

__all__ = [
    "SCHEDULED",
    "Attachment",
    "MailMessage",
    "MailStatus",
    "enqueue",
    "from_demo_seed",
    "off_commit",
    "on_commit",
    "render",
    "valid_address",
]

_HUB_DIR = Path(__file__).resolve().parent.parent

# Messages due at a time rather than caused by a request (a provisional hold about to expire, an
# agreement alert): modules provide a function under this name (``Module.provides``),
# ``async def (db: AsyncSession, settings: Settings, now: datetime) -> int``, which queues what is
# due with :func:`enqueue` (a ``dedupe_key`` per message, so asking twice queues once), commits,
# and answers how many it queued. The sender asks every provider every few minutes.
SCHEDULED = "mail.scheduled"

# Line breaks (and NUL) in a header value would let the value write headers of its own.
_FORBIDDEN = ("\r", "\n", "\0", "\u2028", "\u2029", "\x85")


# The demo seeds act as ``Identity.system(DEMO_ACTOR)``: the demo hub has nobody to write to.
DEMO_ACTOR = "demo data"


def from_demo_seed(actor: Identity) -> bool:
    """A change the demo seed makes: it queues no message (the demo's addresses are made up)."""
    return actor.via == "system" and actor.email == DEMO_ACTOR


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: ``content_type`` such as ``application/pdf`` or
    ``text/calendar; method=REQUEST``."""

    filename: str
    content_type: str
    data: bytes


def _no_line_breaks(field: str, value: str) -> None:
    if any(ch in value for ch in _FORBIDDEN):
        raise RuleViolation(f"{field} must not contain a line break", field=field)


def valid_address(address: str, field: str = "to") -> str:
    """The address, checked: one mailbox ``local@domain`` with no display name, no line break,
    no comma. Raises :class:`RuleViolation` naming ``field`` otherwise."""
    value = address.strip()
    _no_line_breaks(field, value)
    display, parsed = parseaddr(value)
    local, _, domain = parsed.partition("@")
    if display or parsed != value or not local or not domain or "," in value or " " in value:
        raise RuleViolation(f"{value!r} is not one email address", field=field)
    try:
        Address(username=local, domain=domain)
    except (ValueError, IndexError) as exc:
        raise RuleViolation(f"{value!r} is not a valid email address", field=field) from exc
    return value


async def enqueue(
    db: AsyncSession,
    *,
    kind: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    to_name: str = "",
    attachments: Sequence[Attachment] = (),
    about: tuple[str, int | str] | None = None,
    dedupe_key: str | None = None,
) -> MailMessage | None:
    """Add a message to the outbox in the caller's transaction (it commits with the caller's change).

    ``kind`` says what it is ("invoice_issued"); ``about`` the thing it concerns
    (``("invoice", 12)``). With ``dedupe_key``, a second message under the same key is not queued
    (answers None) — the database's unique index makes that hold under races too. Raises
    :class:`RuleViolation` naming the field for an address that does not parse or a line break in
    a name, subject or file name."""
    address = valid_address(to, "to")
    _no_line_breaks("to_name", to_name)
    _no_line_breaks("subject", subject)
    if not subject.strip():
        raise RuleViolation("a message needs a subject", field="subject")
    for attachment in attachments:
        _no_line_breaks("attachments.filename", attachment.filename)
        _no_line_breaks("attachments.content_type", attachment.content_type)
    if dedupe_key is not None:
        already = await db.scalar(select(MailMessage.id).where(MailMessage.dedupe_key == dedupe_key))
        if already is not None:
            return None
    message = MailMessage(
        kind=kind,
        status=MailStatus.PENDING,
        to_address=address,
        to_name=to_name.strip()[:200],
        subject=subject.strip()[:300],
        text_body=text,
        html_body=html,
        about_type=about[0] if about else None,
        about_id=str(about[1]) if about else None,
        message_id=f"<{secrets.token_hex(16)}.{utcnow():%Y%m%d}@hubkeeper>",
        dedupe_key=dedupe_key,
        created_at=utcnow(),
        attempts=0,
        next_attempt_at=utcnow(),
        last_error="",
        attachments=[
            MailAttachment(position=i, filename=a.filename, content_type=a.content_type, data=a.data)
            for i, a in enumerate(attachments)
        ],
    )
    db.add(message)
    _wake_after_commit(db)
    return message


# Called (with no arguments) after a transaction that queued mail commits: the sender running in
# this process sets it so it looks at the outbox at once rather than at its next poll.
_listeners: list[Any] = []


def on_commit(callback: Any) -> None:
    """Ask to be told (``callback()``) when a transaction that queued mail has committed."""
    _listeners.append(callback)


def off_commit(callback: Any) -> None:
    """Stop telling ``callback`` (the app's sender, as it shuts down)."""
    if callback in _listeners:
        _listeners.remove(callback)


def _wake_after_commit(db: AsyncSession) -> None:
    sync_session = db.sync_session
    if sync_session.info.get("hub_mail_wake"):
        return
    sync_session.info["hub_mail_wake"] = True

    def committed(_session: Any) -> None:
        sync_session.info.pop("hub_mail_wake", None)
        for callback in list(_listeners):
            try:
                callback()
            except Exception:  # the change has committed: a listener's trouble must not undo that
                logging.getLogger("hub.mail").exception("mail: a commit listener failed")

    def rolled_back(_session: Any) -> None:
        sync_session.info.pop("hub_mail_wake", None)
        if event.contains(sync_session, "after_commit", committed):
            event.remove(sync_session, "after_commit", committed)

    event.listen(sync_session, "after_commit", committed, once=True)
    event.listen(sync_session, "after_rollback", rolled_back, once=True)


@cache
def _environment(package_dir: Path, html: bool) -> Environment:
    folders = [str(package_dir / "templates")]
    if package_dir.resolve() != _HUB_DIR:
        folders.append(str(_HUB_DIR / "templates"))
    return Environment(
        loader=ChoiceLoader([FileSystemLoader(folder) for folder in folders]),
        # Plain-text bodies are not HTML: escaping them would show "&amp;" to the reader.
        autoescape=select_autoescape(["html"]) if html else False,  # noqa: S701
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
    )


def render(package_dir: Path, name: str, /, **context: Any) -> tuple[str, str | None]:
    """(text, html) of a message from ``<package_dir>/templates/mail/<name>.txt`` and ``.html``;
    the HTML one is optional (None when there is none). Values are escaped in the HTML body."""
    text = _environment(package_dir, False).get_template(f"mail/{name}.txt").render(**context)
    html_env = _environment(package_dir, True)
    try:
        template = html_env.get_template(f"mail/{name}.html")
    except TemplateNotFound:  # no HTML version of this message
        return text, None
    return text, template.render(**context)


def when(value: datetime, fmt: str = "%A %d %B %Y, %H:%M") -> str:
    """A time as a message shows it (the caller converts it to the building's zone first)."""
    return value.strftime(fmt)
