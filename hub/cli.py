"""The ``hubkeeper`` command: serve, migrate, manage accounts and tokens, run the demo, and every
module's own commands (the core's ``billing``, ``ledger`` and ``stripe`` among them), added from
the one list of modules (:func:`hub.app.default_modules`)."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from pathlib import Path

import click
import uvicorn
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import demo as demo_data
from hub import migrations
from hub.app import create_app, default_modules, seed_demo
from hub.auth import Identity
from hub.billing.demo import demo_settings
from hub.commands import cli_settings, reconcile_pending, run_with_db
from hub.config import Settings, SettingsError, load_settings, sqlite_path
from hub.db import create_engine
from hub.errors import DomainError
from hub.models import Organisation, Role
from hub.modules import Module, Registry
from hub.schemas import UserCreate, convert_input
from hub.services import accounts
from hub.text import name_key


@click.group()
@click.version_option(package_name="hubkeeper")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Hubkeeper: the software that runs a community-owned building."""
    # Commands ask what the modules declare through hub.commands.cli_registry().
    ctx.obj = Registry(default_modules())


@main.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 in a container)."
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--migrate/--no-migrate", default=False, help="Run database migrations before serving.")
def serve(host: str, port: int, workers: int, migrate: bool) -> None:
    """Run the production web server."""
    settings = cli_settings()  # refuse to start on a bad setting, before any worker forks
    if migrate:
        migrations.upgrade(settings)
    if settings.stripe_secret_key is not None:
        # Settle what a crash left pending with Stripe before taking new work (bounded: a
        # Stripe that does not answer leaves it pending for the next run, and does not stop us).
        try:
            report = reconcile_pending(settings, older_than_minutes=0)
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
    migrations.upgrade(cli_settings(), revision)
    click.echo(f"database upgraded to {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION (e.g. -1 or base)."""
    migrations.downgrade(cli_settings(), revision)
    click.echo(f"database downgraded to {revision}")


@db.command("current")
def db_current() -> None:
    """Show the schema revision the database is at."""
    migrations.current(cli_settings())


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
    settings = cli_settings()
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
        click.echo(run_with_db(settings, work))
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
    settings = cli_settings()

    async def work(db_session: AsyncSession) -> str:
        user = await accounts.get_user_by_email(db_session, email)
        if user is None:
            raise click.ClickException(f"--email: no account has the email {email!r}")
        secret, _token = await accounts.create_token(
            db_session, settings, Identity.system("cli"), name, user_id=user.id
        )
        return secret

    try:
        click.echo(run_with_db(settings, work))
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc


DEMO_DATABASE = Path("var/demo.sqlite3")


async def _table_names(settings: Settings) -> list[str]:
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
    settings = cli_settings()
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

    # The demo hub's own name and address for its invoices, unless HUB_SUPPLIER_* say otherwise.
    settings = demo_settings(settings)

    run_with_db(settings, lambda db_session: seed_demo(db_session, settings))
    click.echo(f"Demo hub ready in {database_url or database}.")
    click.echo("")
    click.echo("Sign in with any of these (role: email / password):")
    for login in demo_data.DEMO_LOGINS:
        suffix = f" — {login.organisation}" if login.organisation else ""
        click.echo(f"  {login.role.value:16} {login.email:26} {login.password}{suffix}")
    click.echo("")
    if no_serve:
        return

    click.echo(f"Serving on http://{host}:{port}  (Ctrl+C to stop)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


def add_module_commands(group: click.Group, modules: list[Module]) -> None:
    """Every module's commands on ``group``; two commands of one name is a mistake, not an override."""
    for module in modules:
        for command in module.cli:
            if command.name in group.commands:
                raise RuntimeError(f"module {module.name!r}: the command {command.name!r} is already taken")
            group.add_command(command)


add_module_commands(main, default_modules())
