"""``hubkeeper backup`` and ``hubkeeper restore``."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.backup import service
from hub.billing.schemas import LedgerCheck
from hub.billing.services import ledger as ledger_service
from hub.commands import cli_registry, cli_settings, run_with_db
from hub.config import Settings, SettingsError, load_settings
from hub.errors import DomainError
from hub.services import audit


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover


def _problem(exc: DomainError) -> click.ClickException:
    return click.ClickException(exc.detail)


@click.command("backup")
@click.option(
    "--to",
    "to",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write the backup to (default: HUB_BACKUP_DIR, var/backups).",
)
@click.option(
    "--keep",
    type=click.IntRange(1, 10_000),
    default=None,
    help="Then remove the oldest backups in that folder beyond this many.",
)
def backup(to: Path | None, keep: int | None) -> None:
    """Copy the database while the hub keeps serving: SQLite with its online backup API,
    PostgreSQL with pg_dump. The name carries the time and schema revision; a checksum (.sha256)
    and a description (.json) are written beside it. Exits 1 if no backup was made."""
    settings = cli_settings()
    try:
        made = service.make_backup(settings, to, keep=keep)
    except DomainError as exc:
        raise _problem(exc) from exc
    click.echo(f"Backup written to {made.path}")
    click.echo(f"  {human_size(made.size_bytes)}, schema revision {made.revision}, {made.seconds:.2f} s")
    click.echo(f"  sha256 {made.sha256}")
    if made.files_count:
        click.echo(f"  with {made.files_count} uploaded file(s) from {settings.data_dir}")
    for name in made.pruned:
        click.echo(f"  removed old backup {name}")


def _ledger_check(settings: Settings) -> LedgerCheck:
    registry = cli_registry()

    async def work(db: AsyncSession) -> LedgerCheck:
        return await ledger_service.check(
            db, pending_after=timedelta(minutes=settings.stripe_pending_minutes), registry=registry
        )

    return run_with_db(settings, work, write=False)


def _record(settings: Settings, path: Path, revision: str) -> None:
    """The restore goes into the restored database's own audit log."""

    async def work(db: AsyncSession) -> None:
        audit.record(
            db,
            Identity.system("cli"),
            "backup.restored",
            "backup",
            path.name[:64],
            summary=f"Database restored from {path.name} (schema revision {revision})",
        )
        await db.commit()

    run_with_db(settings, work)


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--database-url",
    default=None,
    help="Restore into this database instead of HUB_DATABASE_URL.",
)
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database.")
def restore(file: Path, database_url: str | None, yes: bool) -> None:
    """Replace the database with the backup FILE. Refuses (changing nothing) a file that fails its
    checksum, is not a Hubkeeper backup or comes from a newer Hubkeeper, and a database a server
    has open. An older backup is migrated forward. Then runs the ledger check: exits 1 if it fails.
    SQLite keeps the database it replaced as <db>.before-restore-<time>; PostgreSQL backs it up
    into HUB_BACKUP_DIR first."""
    settings = cli_settings()
    if database_url:
        try:
            url = load_settings({"HUB_DATABASE_URL": database_url}).database_url
        except SettingsError as exc:
            raise click.ClickException(f"--database-url: {exc.reason}") from exc
        settings = replace(settings, database_url=url)

    def confirm(checked: service.Checked) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            raise click.ClickException("--yes: say --yes to restore without a terminal to confirm at")
        return click.confirm(
            f"Replace the database {service._describe(settings)} with {checked.path.name}?", default=False
        )

    try:
        restored = service.restore(settings, file, ledger_check=_ledger_check, confirm=confirm)
    except DomainError as exc:
        raise _problem(exc) from exc
    _record(settings, file, restored.revision_restored)
    click.echo(f"Restored {file.name} into {restored.target} in {restored.seconds:.2f} s.")
    if restored.revision_restored != restored.revision_now:
        click.echo(f"  migrated from schema revision {restored.revision_restored} to {restored.revision_now}")
    if restored.kept:
        click.echo(f"  the database it replaced is kept at {restored.kept}")
    if restored.files is not None:
        click.echo(
            f"  uploaded files: {restored.files.written} put back, {restored.files.unchanged} already there"
        )
        for aside in restored.files.kept_aside:
            click.echo(f"  a different file of the same name was kept at {aside}")
    result = restored.ledger
    assert result is not None
    for problem in result.problems:
        click.echo(f"problem: {problem}", err=True)
    click.echo(
        f"Ledger check {'OK' if result.ok else 'FAILED'}: "
        f"{result.entries} entries in {result.journals} journals; "
        f"{result.invoices} invoices and credit notes, {result.payments} payments checked; "
        f"{len(result.problems)} problem(s)."
    )
    if not result.ok:
        sys.exit(1)


COMMANDS: list[click.Command] = [backup, restore]
