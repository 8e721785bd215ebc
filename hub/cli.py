"""The ``hubkeeper`` command: serve, migrate, manage accounts and tokens, run the demo."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click
from sqlalchemy import select

from hub.config import Settings, SettingsError, load_settings, sqlite_path

if TYPE_CHECKING:
    from hub.billing.services.reconcile import Reconciled

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"configuration error: {exc}") from exc


def _run_with_db(settings: Settings, work: Callable[..., Awaitable[T]], *, write: bool = True) -> T:
    from hub.db import create_engine, create_sessionmaker, writer

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
@click.version_option(package_name="hubkeeper")
def main() -> None:
    """Hubkeeper: the software that runs a community-owned building."""


@main.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 in a container)."
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--migrate/--no-migrate", default=False, help="Run database migrations before serving.")
def serve(host: str, port: int, workers: int, migrate: bool) -> None:
    """Run the production web server."""
    import uvicorn

    settings = _settings()  # refuse to start on a bad setting, before any worker forks
    if migrate:
        from hub import migrations

        migrations.upgrade(settings)
    if settings.stripe_secret_key is not None:
        # Settle what a crash left pending with Stripe before taking new work (bounded: a
        # Stripe that does not answer leaves it pending for the next run, and does not stop us).
        try:
            report = _reconcile(settings, older_than_minutes=0)
            click.echo(
                f"Stripe reconcile: {len(report.settled)} settled, {len(report.still_pending)} pending"
            )
        except Exception as exc:  # start serving whatever went wrong; the ledger check reports it
            click.echo(f"Stripe reconcile did not finish: {exc}", err=True)
    uvicorn.run(
        "hub.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        log_level="info",
    )


@main.group()
def db() -> None:
    """Database schema (Alembic migrations are the only way it is made)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the schema to REVISION (default: the latest)."""
    from hub import migrations

    migrations.upgrade(_settings(), revision)
    click.echo(f"database upgraded to {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION (e.g. -1 or base)."""
    from hub import migrations

    migrations.downgrade(_settings(), revision)
    click.echo(f"database downgraded to {revision}")


@db.command("current")
def db_current() -> None:
    """Show the schema revision the database is at."""
    from hub import migrations

    migrations.current(_settings())


def _read_password(password_stdin: bool) -> str:
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return str(password)


@main.group()
def users() -> None:
    """User accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "receptionist", "trustee", "tenant", "cafe", "cafe_supervisor"]),
)
@click.option("--organisation", default=None, help="Organisation id or exact name (required for tenants).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(email: str, name: str, role: str, organisation: str | None, password_stdin: bool) -> None:
    """Create an account. The password is prompted for, or read from stdin."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from hub.auth import Identity
    from hub.errors import DomainError
    from hub.models import Organisation, Role
    from hub.schemas import UserCreate, convert_input
    from hub.services import accounts
    from hub.text import name_key

    settings = _settings()
    password = _read_password(password_stdin)

    async def work(db_session: AsyncSession) -> str:
        organisation_id: int | None = None
        if organisation:
            query = (
                select(Organisation.id).where(Organisation.id == int(organisation))
                if organisation.isdigit()
                else select(Organisation.id).where(Organisation.name_key == name_key(organisation))
            )
            organisation_id = await db_session.scalar(query)
            if organisation_id is None:
                raise click.ClickException(f"--organisation: no organisation matches {organisation!r}")
        data = convert_input(
            {
                "email": email,
                "name": name,
                "role": Role(role),
                "organisation_id": organisation_id,
                "password": password,
            },
            UserCreate,
        )
        user = await accounts.create_user(db_session, Identity.system("cli"), data)
        return f"created {user.role} account {user.email} (id {user.id})"

    try:
        click.echo(_run_with_db(settings, work))
    except DomainError as exc:
        fields = "; ".join(f"{e.field}: {e.reason}" for e in exc.errors) or exc.detail
        raise click.ClickException(fields) from exc


@main.group()
def tokens() -> None:
    """API tokens for integrations."""


@tokens.command("create")
@click.option("--email", required=True, help="The account the token acts as.")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
def tokens_create(email: str, name: str) -> None:
    """Print a new API token. It is shown once; only its hash is stored."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from hub.auth import Identity
    from hub.errors import DomainError
    from hub.services import accounts

    settings = _settings()

    async def work(db_session: AsyncSession) -> str:
        user = await accounts.get_user_by_email(db_session, email)
        if user is None:
            raise click.ClickException(f"--email: no account has the email {email!r}")
        secret, _token = await accounts.create_token(
            db_session, settings, Identity.system("cli"), name, user_id=user.id
        )
        return secret

    try:
        click.echo(_run_with_db(settings, work))
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc


@main.group()
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
    from sqlalchemy.ext.asyncio import AsyncSession

    from hub.auth import Identity
    from hub.billing.services import invoices
    from hub.errors import DomainError
    from hub.money import format_pence

    settings = _settings()

    async def work(db_session: AsyncSession) -> None:
        result = await invoices.billing_run(
            db_session, settings, Identity.system("billing-run"), month, issue=not draft
        )
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
        _run_with_db(settings, work)
    except DomainError as exc:
        raise click.ClickException(f"--month: {exc.detail}" if exc.errors else exc.detail) from exc


@main.group()
def ledger() -> None:
    """The income ledger."""


@ledger.command("check")
def ledger_check() -> None:
    """Reconcile the ledger with invoices, credit notes, payments and allocations. Exits 1 on a
    difference, listing each one."""
    from datetime import timedelta

    from sqlalchemy.ext.asyncio import AsyncSession

    from hub.billing.schemas import LedgerCheck
    from hub.billing.services import ledger as ledger_service

    settings = _settings()

    async def work(db_session: AsyncSession) -> LedgerCheck:
        return await ledger_service.check(
            db_session, pending_after=timedelta(minutes=settings.stripe_pending_minutes)
        )

    result = _run_with_db(settings, work, write=False)
    for problem in result.problems:
        click.echo(f"problem: {problem}", err=True)
    click.echo(
        f"{'OK' if result.ok else 'FAILED'}: {result.entries} entries in {result.journals} journals; "
        f"{result.invoices} invoices and credit notes, {result.payments} payments checked; "
        f"{len(result.problems)} problem(s)."
    )
    if not result.ok:
        sys.exit(1)


@main.group()
def stripe() -> None:
    """Stripe: settle what was left pending."""


def _reconcile(settings: Settings, *, older_than_minutes: int) -> Reconciled:
    from datetime import timedelta

    from sqlalchemy.ext.asyncio import AsyncSession

    from hub.billing.services import reconcile

    async def work(db_session: AsyncSession) -> Reconciled:
        return await reconcile.reconcile(
            db_session, settings, older_than=timedelta(minutes=older_than_minutes)
        )

    return _run_with_db(settings, work)


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
    settings = _settings()
    if settings.stripe_secret_key is None:
        click.echo("Stripe is not set up here (HUB_STRIPE_SECRET_KEY): nothing to reconcile.")
        return
    report = _reconcile(settings, older_than_minutes=older_than_minutes)
    for line in report.settled:
        click.echo(f"settled: {line}")
    for line in report.still_pending:
        click.echo(f"still pending: {line}", err=True)
    click.echo(f"{len(report.settled)} settled, {len(report.still_pending)} still pending.")
    if report.still_pending:
        sys.exit(1)


DEMO_DATABASE = Path("var/demo.sqlite3")


async def _table_names(settings: Settings) -> list[str]:
    from sqlalchemy import inspect

    from hub.db import create_engine

    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda sync_conn: inspect(sync_conn).get_table_names())
    finally:
        await engine.dispose()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--database",
    "database",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEMO_DATABASE,
    show_default=True,
    help="SQLite file for the demo; it is made afresh.",
)
@click.option(
    "--database-url", default=None, help="Use this (empty) database instead, e.g. a new PostgreSQL database."
)
@click.option("--no-serve", is_flag=True, help="Only make the demo database.")
def demo(host: str, port: int, database: Path, database_url: str | None, no_serve: bool) -> None:
    """Make a fresh demo database (a Fleetwood-style hub) and serve it."""
    from hub import demo as demo_data
    from hub import migrations
    from hub.config import SettingsError, load_settings

    settings = _settings()
    if settings.is_production:
        raise click.ClickException("the demo refuses to run with HUB_ENV=production")
    if database_url:
        try:
            url = load_settings({"HUB_DATABASE_URL": database_url}).database_url
        except SettingsError as exc:
            raise click.ClickException(f"--database-url: {exc.reason}") from exc
        settings = replace(settings, database_url=url)
        # Never seed demo people into a database that holds anything: it might be a real hub.
        if asyncio.run(_table_names(settings)):
            raise click.ClickException(
                "--database-url: the demo needs an empty database; this one has tables"
            )
    else:
        settings = replace(settings, database_url=f"sqlite+aiosqlite:///{database}")
        path = sqlite_path(settings.database_url)
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    migrations.upgrade(settings)
    from hub.app import seed_demo
    from hub.billing.demo import demo_settings

    # The demo hub's own name and address for its invoices, unless HUB_SUPPLIER_* say otherwise.
    settings = demo_settings(settings)

    _run_with_db(settings, lambda db_session: seed_demo(db_session, settings))
    click.echo(f"Demo hub ready in {database_url or database}.")
    click.echo("")
    click.echo("Sign in with any of these (role: email / password):")
    for login in demo_data.DEMO_LOGINS:
        suffix = f" — {login.organisation}" if login.organisation else ""
        click.echo(f"  {login.role.value:16} {login.email:26} {login.password}{suffix}")
    click.echo("")
    if no_serve:
        return
    import uvicorn

    from hub.app import create_app

    click.echo(f"Serving on http://{host}:{port}  (Ctrl+C to stop)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
