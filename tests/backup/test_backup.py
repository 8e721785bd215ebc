"""``hubkeeper backup``: the name, checksum and description of a backup, and --keep."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from hub.auth import Identity
from hub.backup import service
from hub.config import Settings
from hub.models import OrganisationKind
from hub.schemas import OrganisationCreate
from hub.services import organisations
from tests.backup.conftest import hubkeeper, organisation_names
from tests.conftest import backend


def _head() -> str:
    # The newest migration in the source tree (alembic/versions), read from the files, not the code.
    found = []
    for path in (Path(__file__).resolve().parents[2] / "alembic" / "versions").glob("*.py"):
        match = re.search(r'^revision: str = "([^"]+)"', path.read_text(), re.MULTILINE)
        if match:
            found.append(match.group(1))
    return max(found)


def _add_organisation(settings: Settings, name: str) -> None:
    from hub.commands import run_with_db

    data = OrganisationCreate(name=name, kind=OrganisationKind.VCSE)
    run_with_db(settings, lambda db: organisations.create(db, Identity.system("test"), data))


def test_backup_is_named_for_its_time_and_revision_with_checksum_and_description(
    settings: Settings, backups: Path
) -> None:
    _add_organisation(settings, "Fleetwood Food Bank")
    before = datetime.now(UTC).replace(microsecond=0)
    result = hubkeeper(["backup", "--to", str(backups)], settings.database_url, backups)
    after = datetime.now(UTC)
    assert result.exit_code == 0, result.output

    made = sorted(p.name for p in backups.iterdir())
    extension = "sqlite3" if backend() == "sqlite" else "pgdump"
    assert len(made) == 3
    name = made[0]
    match = re.fullmatch(rf"hubkeeper-(\d{{8}}T\d{{6}}Z)-rev{_head()}\.{extension}", name)
    assert match, name
    taken = datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before <= taken <= after
    assert made[1:] == [f"{name}.json", f"{name}.sha256"]
    assert f"Backup written to {backups / name}" in result.output

    import hashlib

    digest = hashlib.sha256((backups / name).read_bytes()).hexdigest()
    # sha256sum's own format, so `sha256sum -c` checks it.
    assert (backups / f"{name}.sha256").read_text() == f"{digest}  {name}\n"
    sidecar = json.loads((backups / f"{name}.json").read_text())
    assert sidecar["name"] == name
    assert sidecar["revision"] == _head()
    assert sidecar["backend"] == backend()
    assert sidecar["sha256"] == digest
    assert sidecar["size_bytes"] == (backups / name).stat().st_size
    assert datetime.fromisoformat(sidecar["started_at"]) <= datetime.fromisoformat(sidecar["finished_at"])
    if backend() == "sqlite":
        assert sidecar["row_counts"]["organisations"] == 1
        with sqlite3.connect(backups / name) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
            assert conn.execute("SELECT name FROM organisations").fetchall() == [("Fleetwood Food Bank",)]
    else:
        assert (backups / name).read_bytes()[:5] == b"PGDMP"


def test_keep_prunes_the_oldest_backups_and_their_sidecars_and_nothing_else(
    settings: Settings, backups: Path
) -> None:
    for day in (1, 2, 3):
        stamp = datetime(2026, 1, day, 2, 30, tzinfo=UTC)
        service.make_backup(settings, backups, clock=lambda stamp=stamp: stamp)  # type: ignore[misc]
    backups.joinpath("notes.txt").write_text("not a backup")
    backups.joinpath("hubkeeper-old-copy.sqlite3").write_text("named by hand")

    result = hubkeeper(["backup", "--keep", "2"], settings.database_url, backups)

    assert result.exit_code == 0, result.output
    kept = sorted(p.name for p in backups.iterdir() if re.match(r"hubkeeper-\d", p.name))
    stems = sorted({n.split(".")[0] for n in kept})
    today = datetime.now(UTC).strftime("%Y%m%d")
    assert len(stems) == 2
    assert stems[0].startswith("hubkeeper-20260103T023000Z-rev")
    assert stems[1].startswith(f"hubkeeper-{today}T")
    assert len(kept) == 6  # each with its .sha256 and .json
    assert backups.joinpath("notes.txt").exists()
    assert backups.joinpath("hubkeeper-old-copy.sqlite3").exists()
    assert "removed old backup hubkeeper-20260101T023000Z" in result.output
    assert "removed old backup hubkeeper-20260102T023000Z" in result.output


def test_postgresql_backup_says_plainly_when_pg_dump_is_missing(settings: Settings, backups: Path) -> None:
    result = hubkeeper(["backup"], settings.database_url, backups, PATH="/nonexistent")
    if backend() == "sqlite":
        # SQLite needs no outside tool.
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1
    assert "pg_dump is not installed" in result.output
    assert not backups.exists() or not any(backups.iterdir())


def test_backup_refuses_a_folder_it_cannot_write(settings: Settings, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    folder = blocked / "backups"
    result = hubkeeper(["backup", "--to", str(folder)], settings.database_url, folder)
    assert result.exit_code == 1
    assert f"The backup folder {folder} cannot be made: Not a directory." in result.output
    assert organisation_names(settings) == set()


def test_backup_of_a_file_that_is_not_a_database_says_so_and_leaves_no_file(tmp_path: Path) -> None:
    broken = tmp_path / "hub.sqlite3"
    broken.write_bytes(b"this is not a database" * 100)
    folder = tmp_path / "backups"
    url = f"sqlite+aiosqlite:///{broken}"
    result = hubkeeper(["backup", "--to", str(folder)], url, folder)
    assert result.exit_code == 1
    assert "Error: SQLite could not copy the database: file is not a database." in result.output
    assert list(folder.iterdir()) == []


def test_two_backups_within_one_second_both_succeed_under_their_own_names(
    settings: Settings, backups: Path
) -> None:
    first = service.make_backup(settings, backups)
    second = service.make_backup(settings, backups)
    assert first.path != second.path
    assert first.path.exists() and second.path.exists()
