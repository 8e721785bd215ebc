"""``hubkeeper mail``: send what is due (from cron when the app is not running), list the outbox,
send a failed message again."""

from __future__ import annotations

import asyncio
import sys

import click
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.commands import cli_registry, cli_settings, run_with_db
from hub.db import create_engine, create_sessionmaker, utcnow, writer
from hub.errors import DomainError
from hub.mail import SCHEDULED, services
from hub.mail.schemas import MailPage
from hub.mail.sender import SendResult, send_due


@click.group()
def mail() -> None:
    """The outbox: every message the hub sends."""


@mail.command("send")
@click.option("--scheduled/--no-scheduled", default=True, help="Queue the messages due at this time first.")
def mail_send(scheduled: bool) -> None:
    """Queue what the modules have due (reminders, alerts), then send every message whose time has
    come, once. Safe beside the running app and beside itself: each message goes once. Exits 1
    when a message failed for good in this run."""
    settings = cli_settings()
    providers = cli_registry().provided(SCHEDULED) if scheduled else []

    async def main() -> tuple[int, SendResult]:
        engine = create_engine(settings)
        try:
            queued = 0
            for provider in providers:
                async with create_sessionmaker(writer(engine))() as db:
                    queued += int(await provider(db, settings, utcnow()))
            return queued, await send_due(engine, settings)
        finally:
            await engine.dispose()

    queued, result = asyncio.run(main())
    if providers:
        click.echo(f"{queued} scheduled message(s) queued.")
    if result.no_server:
        click.echo(
            f"No mail server is set (HUB_SMTP_URL): {result.waiting} message(s) wait in the outbox.",
            err=True,
        )
        return
    for line in result.errors:
        click.echo(f"error: {line}", err=True)
    click.echo(f"{result.sent} sent, {result.retrying} to try again later, {result.failed} failed.")
    if result.failed:
        sys.exit(1)


@mail.command("list")
@click.option(
    "--status", type=click.Choice(["pending", "sent", "failed"]), default=None, help="Only these messages."
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
def mail_list(status: str | None, limit: int) -> None:
    """The outbox, newest first: id, status, tries, recipient, subject (and the last error)."""
    settings = cli_settings()

    async def work(db: AsyncSession) -> MailPage:
        return await services.list_messages(
            db,
            status=services.parse_status(status),
            per_page=limit,
            server_configured=settings.smtp is not None,
        )

    page = run_with_db(settings, work, write=False)
    if not page.server_configured:
        click.echo("No mail server is set (HUB_SMTP_URL): messages wait here.", err=True)
    for m in page.items:
        when = m.created_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
        click.echo(
            f"{m.id:>6}  {m.status.value:<7}  {when}  tries {m.attempts:<2}  {m.to_address}  {m.subject}"
        )
        if m.last_error and m.status.value != "sent":
            click.echo(f"        last error: {m.last_error}")
    click.echo(f"{len(page.items)} of {page.total} message(s).")


@mail.command("retry")
@click.argument("message_id", type=click.IntRange(1, 2**63 - 1))
def mail_retry(message_id: int) -> None:
    """Send a failed message again (back to waiting, with a fresh count of tries). Audited."""
    settings = cli_settings()

    async def work(db: AsyncSession) -> str:
        message = await services.retry(db, Identity.system("hubkeeper mail retry"), message_id)
        return f"Message {message.id} to {message.to_address} is waiting to be sent again."

    try:
        click.echo(run_with_db(settings, work))
    except DomainError as exc:
        raise click.ClickException(f"MESSAGE_ID {message_id}: {exc.detail}") from exc


COMMANDS: list[click.Command] = [mail]
