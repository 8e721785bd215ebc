"""What every module's commands stand on (the settings, a database session), and the core's own
commands for money: ``billing``, ``ledger`` and ``stripe``.

A module's commands are click commands or groups listed in its :class:`hub.modules.Module`
(``cli=[...]``); ``hubkeeper`` adds every module's to its own group (``hub/cli.py``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.billing.schemas import LedgerCheck
from hub.billing.services import invoices, reconcile
from hub.billing.services import ledger as ledger_service
from hub.billing.services.reconcile import Reconciled
from hub.config import Settings, SettingsError, load_settings
from hub.db import create_engine, create_sessionmaker, writer
from hub.errors import DomainError
from hub.modules import Registry
from hub.money import format_pence

T = TypeVar("T")


def cli_settings() -> Settings:
    """The settings from the environment, or the command stops naming what is wrong."""
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"configuration error: {exc}") from exc


def cli_registry() -> Registry:
    """What the app's modules declare, for a command (``hubkeeper`` builds it from the one list of
    modules before any command runs)."""
    registry = click.get_current_context().find_root().obj
    if not isinstance(registry, Registry):
        raise click.ClickException("hubkeeper's module registry is missing: run commands through `hubkeeper`")
    return registry


def run_with_db(settings: Settings, work: Callable[..., Awaitable[T]], *, write: bool = True) -> T:
    """Run ``work(db)`` in one database session (holding SQLite's write lock from BEGIN when it
    writes, as the web app's writes do) and answer what it answers."""

    async def main() -> T:
        engine = create_engine(settings)
        try:
            # Changes hold SQLite's write lock from BEGIN, as the web app's do (invoice numbers).
            async with create_sessionmaker(writer(engine) if write else engine)() as db:
                return await work(db)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@click.group()
def billing() -> None:
    """Invoicing."""


@billing.command("run")
@click.option(
    "--month", required=True, help="Invoice charges supplied up to the end of this month (YYYY-MM)."
)
@click.option("--draft", is_flag=True, help="Leave the invoices as drafts to check before issuing.")
def billing_run(month: str, draft: bool) -> None:
    """Invoice every organisation's uninvoiced charges up to the end of MONTH. Safe to run twice:
    a second run finds nothing left to invoice."""
    settings = cli_settings()
    registry = cli_registry()

    async def work(db_session: AsyncSession) -> None:
        result = await invoices.billing_run(
            db_session, settings, Identity.system("billing-run"), month, issue=not draft, registry=registry
        )
        for line in result.posted:
            click.echo(f"posted: {line}")
        for invoice in result.invoices:
            label = invoice.number or f"draft {invoice.id}"
            click.echo(f"{label}  {invoice.customer_name}  {format_pence(invoice.gross_pence)}")
        for line in result.skipped:
            click.echo(f"skipped: {line}", err=True)
        total = sum(i.gross_pence for i in result.invoices)
        click.echo(
            f"{len(result.invoices)} invoice(s), {format_pence(total)} in all, for charges to {month}."
        )

    try:
        run_with_db(settings, work)
    except DomainError as exc:
        raise click.ClickException(f"--month: {exc.detail}" if exc.errors else exc.detail) from exc


@click.group()
def ledger() -> None:
    """The income ledger."""


@ledger.command("check")
def ledger_check() -> None:
    """Reconcile the ledger with invoices, credit notes, payments and allocations. Exits 1 on a
    difference, listing each one."""
    settings = cli_settings()

    registry = cli_registry()

    async def work(db_session: AsyncSession) -> LedgerCheck:
        return await ledger_service.check(
            db_session, pending_after=timedelta(minutes=settings.stripe_pending_minutes), registry=registry
        )

    result = run_with_db(settings, work, write=False)
    for problem in result.problems:
        click.echo(f"problem: {problem}", err=True)
    click.echo(
        f"{'OK' if result.ok else 'FAILED'}: {result.entries} entries in {result.journals} journals; "
        f"{result.invoices} invoices and credit notes, {result.payments} payments checked; "
        f"{len(result.problems)} problem(s)."
    )
    if not result.ok:
        sys.exit(1)


@click.group()
def stripe() -> None:
    """Stripe: settle what was left pending."""


def reconcile_pending(settings: Settings, *, older_than_minutes: int) -> Reconciled:
    async def work(db_session: AsyncSession) -> Reconciled:
        return await reconcile.reconcile(
            db_session, settings, older_than=timedelta(minutes=older_than_minutes)
        )

    return run_with_db(settings, work)


@stripe.command("reconcile")
@click.option(
    "--older-than",
    "older_than_minutes",
    default=1,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Only settle what has been pending at least this many minutes (0: everything).",
)
def stripe_reconcile(older_than_minutes: int) -> None:
    """Settle Pay now attempts and refunds left pending by a crash or a Stripe that did not answer:
    each is asked of Stripe again with its own idempotency key and the answer recorded. Run it
    every few minutes (cron, a systemd timer); `hubkeeper serve` also runs it when it starts.
    Exits 1 while anything is still pending."""
    settings = cli_settings()
    if settings.stripe_secret_key is None:
        click.echo("Stripe is not set up here (HUB_STRIPE_SECRET_KEY): nothing to reconcile.")
        return
    report = reconcile_pending(settings, older_than_minutes=older_than_minutes)
    for line in report.settled:
        click.echo(f"settled: {line}")
    for line in report.still_pending:
        click.echo(f"still pending: {line}", err=True)
    click.echo(f"{len(report.settled)} settled, {len(report.still_pending)} still pending.")
    if report.still_pending:
        sys.exit(1)


# The core module's commands (money is core): hub/plugin.py lists them.
COMMANDS: list[click.Command] = [billing, ledger, stripe]
