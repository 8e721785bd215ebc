"""The outbox's sender: what is pending goes to the SMTP server after commit, each message once.

How a message is sent exactly once when two senders run (two app workers, or the app and
``hubkeeper mail send`` from cron):

1. **Claim** (a short write transaction, committed): one ``UPDATE … WHERE id IN (…) AND status =
   'pending' AND (claimed_until IS NULL OR claimed_until < now)`` sets this run's random
   ``claim_token`` and a ``claimed_until`` lease. The database decides which sender's update
   matches a row; each sender then reads back only the rows carrying its own token.
2. **Send** (no transaction open, in a thread: ``smtplib`` blocks): one connection for the batch.
3. **Record** each answer at once in its own short transaction, and only while the row still
   carries this run's token: sent (``sent_at``), or tried again later (back-off), or failed.

A sender that dies between 2 and 3 leaves its claim to expire (``claimed_until``); the message is
then sent again, with the same Message-ID, so the recipient's mail program shows it once. That is
the one case where a message can go twice: delivery is at least once, and exactly once whenever
the sender lives to record the answer.

Retries: after the n-th failed try the next is ``min(2**(n-1), 60)`` minutes later (1, 2, 4, 8,
16, 32, 60, 60 … minutes) plus up to 10% jitter, so a queue that built up while the server was
down does not hit it all at once. After :data:`MAX_ATTEMPTS` tries (about four hours) the message
is ``failed``; an admin may send it again. A permanent refusal of the recipient or of the message
(an SMTP 5xx answer to RCPT or DATA) fails it at once: the same server would only refuse it
again. A refused sign-in, sender address or connection is a problem of the hub's settings, not of
the message: those keep being retried, so mending ``HUB_SMTP_URL`` sends everything waiting.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import smtplib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.config import Settings, SmtpServer
from hub.db import create_sessionmaker, utcnow, writer
from hub.mail.models import MailMessage, MailStatus

logger = logging.getLogger("hub.mail")

MAX_ATTEMPTS = 10
BACKOFF_CAP = timedelta(hours=1)
JITTER = 0.10
DEFAULT_BATCH = 50
# How long a claim holds beyond the time the batch may take to send (connect, sign in, each
# message): another sender takes an unanswered message over only after the lease has run out.
LEASE_MARGIN = timedelta(minutes=2)
ERROR_LENGTH = 2000

_LINE_BREAKS = str.maketrans({ch: " " for ch in "\r\n\0\u2028\u2029\x85\t\x0b\x0c"})


@dataclass
class SendResult:
    """What one :func:`send_due` did. ``no_server``: ``HUB_SMTP_URL`` is not set, nothing was
    tried and ``waiting`` messages stay pending."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    waiting: int = 0
    no_server: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def tried(self) -> int:
        return self.sent + self.retrying + self.failed


def backoff(attempts: int, *, jitter: float | None = None) -> timedelta:
    """How long to wait after the ``attempts``-th failed try: 1, 2, 4 … minutes, at most an hour,
    plus ``jitter`` (a share, 0 to 0.1 at random unless given)."""
    minutes = min(2 ** max(attempts - 1, 0), int(BACKOFF_CAP.total_seconds() // 60))
    share = random.uniform(0, JITTER) if jitter is None else jitter  # noqa: S311 - not a secret
    return timedelta(minutes=minutes) * (1 + share)


def _one_line(value: str) -> str:
    return " ".join(value.translate(_LINE_BREAKS).split())


def _from_address(settings: Settings) -> Address:
    display, address = parseaddr(settings.mail_from)
    local, _, domain = address.partition("@")
    return Address(display_name=_one_line(display), username=local, domain=domain)


def _message_id(stored: str, domain: str) -> str:
    """The stored Message-ID with the sender's domain (``<random.date@hubkeeper>`` →
    ``<random.date@example.org>``): the same every time the message is sent."""
    local = stored.strip("<>").partition("@")[0]
    return f"<{local}@{domain}>"


def build_email(message: MailMessage, settings: Settings) -> EmailMessage:
    """The message as it goes on the wire. Names and subjects are written as encoded header
    values; a line break that reached the database anyway is flattened to a space, so no value
    can add a header of its own."""
    sender = _from_address(settings)
    local, _, domain = message.to_address.partition("@")
    email = EmailMessage()
    email["From"] = sender
    email["To"] = Address(display_name=_one_line(message.to_name), username=local, domain=domain)
    email["Subject"] = _one_line(message.subject)
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = _message_id(message.message_id, sender.domain or "hubkeeper")
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text_body)
    if message.html_body:
        email.add_alternative(message.html_body, subtype="html")
    for attachment in message.attachments:
        main, params = _content_type(attachment.content_type)
        maintype, _, subtype = main.partition("/")
        filename = _one_line(attachment.filename)
        if maintype == "text":
            # Text (a calendar invitation) goes as UTF-8 text, its parameters (method=REQUEST) kept.
            email.add_attachment(
                attachment.data.decode("utf-8", errors="replace"),
                subtype=subtype,
                filename=filename,
                params=params,
            )
        else:
            email.add_attachment(
                attachment.data, maintype=maintype, subtype=subtype, filename=filename, params=params
            )
    return email


def _content_type(value: str) -> tuple[str, dict[str, str]]:
    main, *rest = [part.strip() for part in value.split(";")]
    params: dict[str, str] = {}
    for part in rest:
        key, _, raw = part.partition("=")
        if key and raw and key.lower() != "charset":
            params[key.strip().lower()] = raw.strip().strip('"')
    if main.count("/") != 1:
        main = "application/octet-stream"
    return main.lower(), params


# -- talking to the server (blocking: run in a thread) ---------------------------------------------


class PermanentRefusal(Exception):
    """The server refused this message for good (5xx to its recipient or its content)."""


def connect(server: SmtpServer, *, ssl_context: ssl.SSLContext | None = None) -> smtplib.SMTP:
    """An open, signed-in connection (plain, STARTTLS or TLS from the start, as set)."""
    context = ssl_context or ssl.create_default_context()
    smtp: smtplib.SMTP
    if server.security == "tls":
        smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout_seconds, context=context)
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout_seconds)
    try:
        smtp.ehlo_or_helo_if_needed()
        if server.security == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if server.username is not None:
            smtp.login(server.username, server.password or "")
    except BaseException:
        _close(smtp)
        raise
    return smtp


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _send_one(smtp: smtplib.SMTP, email: EmailMessage, envelope_from: str, to: str) -> None:
    try:
        smtp.send_message(email, from_addr=envelope_from, to_addrs=[to])
    except smtplib.SMTPRecipientsRefused as exc:
        code, reason = next(iter(exc.recipients.values()), (0, b""))
        if 500 <= code < 600:
            raise PermanentRefusal(f"{code} {_text(reason)}") from exc
        raise
    except smtplib.SMTPDataError as exc:
        if 500 <= exc.smtp_code < 600:
            raise PermanentRefusal(f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
        raise


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def describe(exc: BaseException) -> str:
    """An error as the admin page shows it: what went wrong, without a traceback."""
    if isinstance(exc, PermanentRefusal):
        return str(exc)[:ERROR_LENGTH]
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"[:ERROR_LENGTH]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {_text(reason)}" for code, reason in exc.recipients.values())[:ERROR_LENGTH]
    if isinstance(exc, ConnectionRefusedError | socket.timeout | TimeoutError | socket.gaierror):
        return f"the mail server could not be reached: {exc}"[:ERROR_LENGTH]
    return f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH]


# -- the outbox --------------------------------------------------------------------------------------


def _maker(target: AsyncEngine | async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """Sessions whose transactions write (on SQLite they hold the write lock from BEGIN)."""
    if isinstance(target, async_sessionmaker):
        bind = target.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            raise TypeError("send_due needs a sessionmaker bound to an engine")
        target = bind
    return create_sessionmaker(writer(target))


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        MailMessage.status == MailStatus.PENDING.value,
        MailMessage.next_attempt_at <= now,
        or_(MailMessage.claimed_until.is_(None), MailMessage.claimed_until < now),
    )


async def count_waiting(db: AsyncSession) -> int:
    return int(
        await db.scalar(
            select(func.count())
            .select_from(MailMessage)
            .where(MailMessage.status == MailStatus.PENDING.value)
        )
        or 0
    )


async def _claim(
    maker: async_sessionmaker[AsyncSession], now: datetime, limit: int, lease: timedelta
) -> tuple[str, list[MailMessage]]:
    token = secrets.token_hex(16)
    async with maker() as db:
        ids = list(
            await db.scalars(
                select(MailMessage.id)
                .where(_due(now))
                .order_by(MailMessage.next_attempt_at, MailMessage.id)
                .limit(limit)
            )
        )
        if not ids:
            await db.rollback()
            return token, []
        # The database decides: a row another sender claimed since the read above no longer matches.
        await db.execute(
            update(MailMessage)
            .where(MailMessage.id.in_(ids), _due(now))
            .values(claim_token=token, claimed_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        await db.commit()
    async with maker() as db:
        claimed = list(
            await db.scalars(
                select(MailMessage).where(MailMessage.claim_token == token).order_by(MailMessage.id)
            )
        )
        # Kept as read (a rollback would expire them) while the session ends its read transaction.
        db.expunge_all()
    return token, claimed


async def _record(
    maker: async_sessionmaker[AsyncSession],
    message: MailMessage,
    token: str,
    now: datetime,
    error: BaseException | None,
    result: SendResult,
) -> None:
    mine = and_(MailMessage.id == message.id, MailMessage.claim_token == token)
    attempts = message.attempts + 1
    values: dict[str, object] = {"attempts": attempts, "claim_token": None, "claimed_until": None}
    if error is None:
        values |= {"status": MailStatus.SENT.value, "sent_at": now, "last_error": ""}
    else:
        permanent = isinstance(error, PermanentRefusal)
        give_up = permanent or attempts >= MAX_ATTEMPTS
        reason = describe(error)
        if permanent:
            reason = f"refused for good by the mail server: {reason}"
        values |= {
            "last_error": reason,
            "status": MailStatus.FAILED.value if give_up else MailStatus.PENDING.value,
            "next_attempt_at": now + backoff(attempts),
        }
    async with maker() as db:
        done = await db.execute(
            update(MailMessage).where(mine).values(**values).execution_options(synchronize_session=False)
        )
        await db.commit()
    if done.rowcount != 1:  # type: ignore[attr-defined]
        # The lease ran out and another sender took the message over: its answer counts.
        logger.warning("mail %s: claim lost before its answer was recorded", message.id)
        return
    if error is None:
        result.sent += 1
    elif values["status"] == MailStatus.FAILED.value:
        result.failed += 1
        result.errors.append(f"#{message.id}: {values['last_error']}")
    else:
        result.retrying += 1
        result.errors.append(f"#{message.id}: {values['last_error']}")


async def send_due(
    target: AsyncEngine | async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    now: datetime | None = None,
    limit: int = DEFAULT_BATCH,
    ssl_context: ssl.SSLContext | None = None,
) -> SendResult:
    """Send every pending message whose time has come (at most ``limit``), each exactly once
    among any number of senders; record sent / tried again later / failed. No transaction is
    open while the server is spoken to. With no ``HUB_SMTP_URL``, nothing is tried."""
    maker = _maker(target)
    result = SendResult()
    server = settings.smtp
    if server is None:
        async with maker() as db:
            result.waiting = await count_waiting(db)
            await db.rollback()
        result.no_server = True
        return result

    def clock() -> datetime:
        return now if now is not None else utcnow()

    started = clock()
    lease = LEASE_MARGIN + timedelta(seconds=server.timeout_seconds * (3 + 2 * limit))
    token, claimed = await _claim(maker, started, limit, lease)
    if not claimed:
        return result
    envelope_from = _from_address(settings).addr_spec
    smtp: smtplib.SMTP | None = None
    # Connecting failed: the rest of the batch waits for the next try without knocking again.
    unreachable: BaseException | None = None
    try:
        for message in claimed:
            error: BaseException | None = unreachable
            if error is None:
                try:
                    email = build_email(message, settings)
                    if smtp is None:
                        try:
                            smtp = await asyncio.to_thread(connect, server, ssl_context=ssl_context)
                        except Exception as exc:
                            logger.warning("mail: cannot send through %r: %s", server, describe(exc))
                            unreachable = exc
                            raise
                    await asyncio.to_thread(_send_one, smtp, email, envelope_from, message.to_address)
                except Exception as exc:
                    error = exc
                    if smtp is not None and isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
                        # The connection broke: the next message opens a new one.
                        await asyncio.to_thread(_close, smtp)
                        smtp = None
            await _record(maker, message, token, clock(), error, result)
    finally:
        if smtp is not None:
            await asyncio.to_thread(_close, smtp)
    return result


__all__: Sequence[str] = [
    "MAX_ATTEMPTS",
    "SendResult",
    "backoff",
    "build_email",
    "connect",
    "send_due",
]
