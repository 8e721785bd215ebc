"""``hubkeeper restore``: what it refuses (changing nothing), migrating an older backup forward, and
the ledger check it runs on what it restored."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub import migrations
from hub.auth import Identity
from hub.backup import service
from hub.commands import run_with_db
from hub.config import Settings, sqlite_path
from hub.models import OrganisationKind
from hub.schemas import OrganisationCreate
from hub.services import organisations
from tests.backup.conftest import at, fingerprint, hubkeeper, organisation_names, revision, set_revision
from tests.backup.test_backup import _head


def _add_organisation(settings: Settings, name: str) -> None:
    data = OrganisationCreate(name=name, kind=OrganisationKind.VCSE)
    run_with_db(settings, lambda db: organisations.create(db, Identity.system("test"), data))


def _checksum(path: Path) -> None:
    import hashlib

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n")


def test_restore_replaces_the_database_keeps_the_old_one_and_passes_the_ledger_check(
    settings: Settings, backups: Path
) -> None:
    _add_organisation(settings, "Before the backup")
    made = service.make_backup(settings, backups)
    _add_organisation(settings, "After the backup")

    result = hubkeeper(["restore", str(made.path), "--yes"], settings.database_url, backups)

    assert result.exit_code == 0, result.output
    assert organisation_names(settings) == {"Before the backup"}
    assert (
        "Ledger check OK: 0 entries in 0 journals; 0 invoices and credit notes, 0 payments checked; "
        "0 problem(s)." in result.output
    )
    assert "the database it replaced is kept at " in result.output
    kept = result.output.split("the database it replaced is kept at ")[1].split("\n")[0].strip()
    if settings.is_sqlite:
        assert Path(kept).name.startswith("hub.sqlite3.before-restore-")
    # Nothing is lost: the database as it was, "After the backup" included, is kept.
    assert organisation_names(at(settings, _url_for(settings, kept))) == {
        "Before the backup",
        "After the backup",
    }


def _url_for(settings: Settings, kept: str) -> str:
    """The kept database: a file beside it (SQLite), or restored from the kept dump (PostgreSQL)."""
    if settings.is_sqlite:
        return f"sqlite+aiosqlite:///{kept}"
    from tests.conftest import fresh_postgres_database

    # Read the kept dump by restoring it into a database of its own.
    context = fresh_postgres_database()
    url = context.__enter__()
    _KEEP.append(context)
    service.restore(at(settings, url), Path(kept))
    return url


_KEEP: list[object] = []


@pytest.fixture(autouse=True)
def _drop_kept_databases() -> Iterator[None]:
    yield
    while _KEEP:
        _KEEP.pop().__exit__(None, None, None)  # type: ignore[attr-defined]


def test_restore_refuses_a_file_that_fails_its_checksum(settings: Settings, backups: Path) -> None:
    made = service.make_backup(settings, backups)
    data = bytearray(made.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    made.path.write_bytes(bytes(data))
    before = fingerprint(settings)

    result = hubkeeper(["restore", str(made.path), "--yes"], settings.database_url, backups)

    assert result.exit_code == 1
    assert (
        f"Error: {made.path.name} does not match its checksum: the file is damaged or was changed. "
        in result.output
    )
    assert fingerprint(settings) == before


def test_restore_refuses_a_file_with_no_checksum_beside_it(settings: Settings, backups: Path) -> None:
    made = service.make_backup(settings, backups)
    made.path.with_name(made.path.name + ".sha256").unlink()
    before = fingerprint(settings)
    result = hubkeeper(["restore", str(made.path), "--yes"], settings.database_url, backups)
    assert result.exit_code == 1
    assert f"{made.path.name} has no checksum beside it" in result.output
    assert fingerprint(settings) == before


def test_restore_refuses_a_file_that_is_not_a_hubkeeper_backup(settings: Settings, tmp_path: Path) -> None:
    before = fingerprint(settings)
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    text_file = folder / "minutes.txt"
    text_file.write_text("Minutes of the trustees' meeting\n")
    _checksum(text_file)
    other_sqlite = folder / "other.sqlite3"
    import sqlite3

    with sqlite3.connect(other_sqlite) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    _checksum(other_sqlite)

    for path in (text_file, other_sqlite):
        result = hubkeeper(["restore", str(path), "--yes"], settings.database_url, folder)
        assert result.exit_code == 1
        if path is other_sqlite and not settings.is_sqlite:
            assert "other.sqlite3 is a sqlite backup but the target database is postgresql" in result.output
        else:
            assert f"Error: {path.name} is not a Hubkeeper backup" in result.output
    assert fingerprint(settings) == before


def test_restore_refuses_a_backup_from_a_newer_hubkeeper(
    settings: Settings, empty_database_url: str, backups: Path
) -> None:
    # A database a later Hubkeeper has migrated: its revision is one this code does not know.
    set_revision(settings, "9999")
    made = service.make_backup(settings, backups)
    assert made.path.name.endswith(("-rev9999.sqlite3", "-rev9999.pgdump"))
    set_revision(settings, _head())
    before = fingerprint(settings)

    result = hubkeeper(["restore", str(made.path), "--yes"], settings.database_url, backups)

    assert result.exit_code == 1
    assert (
        f"{made.path.name} comes from a newer Hubkeeper "
        f"(schema revision 9999; this one knows up to {_head()}). "
        "Upgrade Hubkeeper first, then restore it." in result.output
    )
    assert fingerprint(settings) == before


def test_an_older_backup_is_restored_then_migrated_forward(settings: Settings, backups: Path) -> None:
    # A hub one migration behind this code (the test database taken back one step).
    previous = service._script(settings).get_revision(_head()).down_revision
    assert isinstance(previous, str)
    migrations.downgrade(settings, previous)
    _add_organisation(settings, "Made before the upgrade")
    made = service.make_backup(settings, backups)
    assert f"-rev{previous}." in made.path.name
    migrations.upgrade(settings)
    _add_organisation(settings, "Made after the upgrade")

    result = hubkeeper(["restore", str(made.path), "--yes"], settings.database_url, backups)

    assert result.exit_code == 0, result.output
    assert f"migrated from schema revision {previous} to {_head()}" in result.output
    assert revision(settings) == _head()
    assert organisation_names(settings) == {"Made before the upgrade"}
    assert "Ledger check OK" in result.output


def test_restore_without_yes_and_no_terminal_changes_nothing(settings: Settings, backups: Path) -> None:
    made = service.make_backup(settings, backups)
    _add_organisation(settings, "Added later")
    result = hubkeeper(["restore", str(made.path)], settings.database_url, backups)
    assert result.exit_code == 1
    assert "--yes: say --yes to restore without a terminal to confirm at" in result.output
    assert organisation_names(settings) == {"Added later"}


# A stand-in for `hubkeeper serve` that starts in a second rather than ten: the hub's own engine,
# with a pooled connection held open after a query, as a serving hub's is after its first request.
HOLD_OPEN = """
import asyncio, sys
from sqlalchemy import text
from hub.config import load_settings
from hub.db import create_engine

async def main():
    engine = create_engine(load_settings())
    async with engine.connect() as conn:
        await conn.execute(text("SELECT count(*) FROM organisations"))
    print("serving", flush=True)
    sys.stdin.readline()
    await engine.dispose()

asyncio.run(main())
"""


def test_restore_refuses_the_database_of_a_running_server(settings: Settings, backups: Path) -> None:
    made = service.make_backup(settings, backups)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update({"HUB_DATABASE_URL": settings.database_url, "HUB_ENV": "test"})
    server = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "serving"
        before = fingerprint(settings)

        result = hubkeeper(["restore", str(made.path), "--yes"], settings.database_url, backups)

        assert result.exit_code == 1
        assert "Error: A server (or another program) has the target database open: " in result.output
        assert "Stop the hub first" in result.output
        assert fingerprint(settings) == before
        path = sqlite_path(settings.database_url)
        if path is not None:
            # Seen without /proc too (a server in another container, or run by another user):
            # SQLite's own shared-memory lock, held by every open connection, tells.
            assert service._shm_locked(Path(f"{path.resolve()}-shm")) is True
    finally:
        server.communicate("stop\n", timeout=20)
    # Once the server has stopped, the same restore goes ahead.
    result = hubkeeper(["restore", str(made.path), "--yes"], settings.database_url, backups)
    assert result.exit_code == 0, result.output


def test_restore_names_a_target_database_it_cannot_use(settings: Settings, backups: Path) -> None:
    made = service.make_backup(settings, backups)
    before = fingerprint(settings)
    result = hubkeeper(
        ["restore", str(made.path), "--yes", "--database-url", "mysql://hub@localhost/hub"],
        settings.database_url,
        backups,
    )
    assert result.exit_code == 1
    assert "Error: --database-url: unsupported database URL 'mysql://hub@localhost/hub'" in result.output
    if not settings.is_sqlite:
        missing = settings.database_url.rsplit("/", 1)[0] + "/no_such_hub_database"
        result = hubkeeper(
            ["restore", str(made.path), "--yes", "--database-url", missing], settings.database_url, backups
        )
        assert result.exit_code == 1
        assert (
            'Error: The target database refused us: database "no_such_hub_database" does not exist.'
            in result.output
        )
    assert fingerprint(settings) == before
