"""Making a backup while the hub serves, and restoring one only when it proves itself.

SQLite is copied with SQLite's own online backup API, one step over every page under a single read
transaction: the copy is the database exactly as one snapshot saw it, whatever writers do meanwhile
(in WAL mode they go on writing; the copy never sees half a transaction). PostgreSQL is copied by
``pg_dump --format=custom``, which reads one snapshot too. Neither is ever a plain file copy.

A restore refuses, before it changes anything, a file that fails its checksum, is not a Hubkeeper
backup, was made by a newer Hubkeeper (a schema revision this code does not know) or is not for the
target's kind of database; and it refuses a database that a server has open. An older backup is
migrated forward. Then the ledger check runs on what was restored.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import make_url

from hub.backup import datafiles, files
from hub.billing.schemas import LedgerCheck
from hub.config import Settings, sqlite_path
from hub.controllers.health import VERSION
from hub.errors import Conflict, RuleViolation, ServiceUnavailable

PG_DUMP_MISSING = (
    "pg_dump is not installed, so this PostgreSQL database cannot be backed up here. Install the "
    "PostgreSQL client tools (e.g. `apt install postgresql-client`, the same major version as the "
    "server or newer) and run the backup again."
)


class BackupFailed(ServiceUnavailable):
    """The backup could not be made (a tool missing, a folder not writable); nothing was kept."""


class RestoreRefused(RuleViolation):
    """The restore would not be safe; nothing was changed."""


# -- what to back up -------------------------------------------------------------------------------


def backend_of(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"


def _sqlite_file(settings: Settings) -> Path:
    path = sqlite_path(settings.database_url)
    if path is None:
        raise BackupFailed("An in-memory SQLite database cannot be backed up.", field="HUB_DATABASE_URL")
    return path


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """A connection that reads a backup file without writing anything beside it (no -wal, -shm)."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).fetchone()
    if has_table is None:
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else None


def _sqlite_integrity(conn: sqlite3.Connection) -> list[str]:
    """The problems ``PRAGMA integrity_check`` reports (none: the file is sound)."""
    rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    return [] if rows == ["ok"] else rows


def _sqlite_row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = [
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables}  # noqa: S608


def sqlite_snapshot(source: Path, target: Path) -> None:
    """Copy the live database at ``source`` into ``target`` with SQLite's online backup API, all
    pages in one step under one read transaction (one snapshot; WAL frames included), then make the
    copy a self-contained file (rollback journal, not WAL)."""
    if not source.is_file():
        raise BackupFailed(f"There is no database at {source}.", field="HUB_DATABASE_URL")
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")


# -- PostgreSQL tools --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PgTarget:
    """Where the PostgreSQL client tools connect: the URL's parts as options, the password in
    ``PGPASSWORD`` (never on a command line another user could read in ``ps``)."""

    args: list[str]
    env: dict[str, str]
    database: str


def pg_target(database_url: str) -> PgTarget:
    url = make_url(database_url)
    args: list[str] = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    sslmode = url.query.get("ssl") or url.query.get("sslmode")
    if isinstance(sslmode, str):
        env["PGSSLMODE"] = sslmode
    return PgTarget(args=args, env=env, database=url.database or "")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if name == "pg_dump":
            raise BackupFailed(PG_DUMP_MISSING)
        raise BackupFailed(
            f"{name} is not installed; it comes with the PostgreSQL client tools "
            "(e.g. `apt install postgresql-client`)."
        )
    return path


def _run(command: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess[bytes]:
    result = subprocess.run(command, env=env, capture_output=True, check=False)  # noqa: S603
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise BackupFailed(f"{what} failed: {' '.join(message[-3:]) or f'exit {result.returncode}'}")
    return result


def pgdump_revision(path: Path) -> str | None:
    """The schema revision recorded inside a custom-format dump (its ``alembic_version`` row), or
    None when the dump has no such table."""
    result = subprocess.run(  # noqa: S603
        [_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(path)],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        return None
    lines = result.stdout.decode("utf-8", "replace").splitlines()
    for index, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and index + 1 < len(lines):
            value = lines[index + 1].strip()
            return value if value and value != "\\." else None
    return None


# -- making a backup ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupMade:
    path: Path
    size_bytes: int
    seconds: float
    revision: str
    sha256: str
    pruned: list[str]
    files_count: int = 0


# One backup at a time in this process (the admin page's button pressed twice).
_backup_lock = threading.Lock()


def make_backup(
    settings: Settings,
    to: Path | None = None,
    *,
    keep: int | None = None,
    clock: Callable[[], datetime] | None = None,
) -> BackupMade:
    """Copy the database into ``to`` (default ``settings.backup_dir``) while the hub keeps serving,
    with its checksum and sidecar beside it; then, with ``keep``, remove the oldest beyond ``keep``.
    The copy is written under a temporary name and renamed only once it and its sidecars are
    complete, so a file with a backup's name is always a whole backup."""
    folder = to or settings.backup_dir
    if not _backup_lock.acquire(timeout=0.1):
        raise Conflict("A backup is being made already; wait for it to finish.")
    try:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BackupFailed(
                f"The backup folder {folder} cannot be made: {exc.strerror}.", field="to"
            ) from exc
        if not os.access(folder, os.W_OK):
            raise BackupFailed(f"The backup folder {folder} is not writable.", field="to")
        backend = backend_of(settings)
        started_at = (clock or (lambda: datetime.now(UTC)))()
        started = time.monotonic()
        fd, partial_name = tempfile.mkstemp(prefix=".hubkeeper-", suffix=".partial", dir=folder)
        os.close(fd)
        partial = Path(partial_name)
        data_partial = partial.with_name(partial.name + ".files")
        try:
            extra: dict[str, Any] = {}
            if backend == "sqlite":
                partial.unlink()  # the backup API makes the file itself
                sqlite_snapshot(_sqlite_file(settings), partial)
                with closing(sqlite3.connect(partial)) as conn:
                    problems = _sqlite_integrity(conn)
                    if problems:
                        raise BackupFailed(f"The copy failed its integrity check: {problems[0]}")
                    revision = _sqlite_revision(conn)
                    extra["row_counts"] = _sqlite_row_counts(conn)
            else:
                target = pg_target(settings.database_url)
                _run(
                    [
                        _tool("pg_dump"),
                        "--format=custom",
                        "--no-owner",
                        "--no-privileges",
                        f"--file={partial}",
                        *target.args,
                        f"--dbname={target.database}",
                    ],
                    target.env,
                    "pg_dump",
                )
                revision = pgdump_revision(partial)
            if revision is None:
                raise BackupFailed("The database has no schema revision: run `hubkeeper db upgrade` first.")
            files.fsync_file(partial)
            finished_at = datetime.now(UTC)
            name = files.backup_name(started_at, revision, backend)
            final = folder / name
            if final.exists() and clock is None:
                # Two backups within one second (a restore backs up what it replaces just after a
                # backup, say): name this one for the next second rather than refuse it.
                time.sleep(1 - datetime.now(UTC).microsecond / 1_000_000)
                name = files.backup_name(datetime.now(UTC), revision, backend)
                final = folder / name
            if final.exists():
                raise Conflict(f"A backup named {name} exists already; try again in a second.")
            size = partial.stat().st_size
            digest = files.sha256_of(partial)
            # The uploaded files, just after the database (see hub.backup.datafiles).
            carried = datafiles.archive(settings.data_dir, data_partial)
            if carried:
                files.fsync_file(data_partial)
                extra["files"] = {
                    "name": files.files_path(final).name,
                    "count": carried,
                    "size_bytes": data_partial.stat().st_size,
                    "sha256": files.sha256_of(data_partial),
                }
            files.write_atomically(files.checksum_path(final), f"{digest}  {name}\n")
            sidecar = {
                "name": name,
                "started_at": started_at.isoformat(),
                "finished_at": finished_at.isoformat(),
                "revision": revision,
                "backend": backend,
                "size_bytes": size,
                "sha256": digest,
                "hubkeeper_version": VERSION,
                **extra,
            }
            import json

            files.write_atomically(files.sidecar_path(final), json.dumps(sidecar, indent=2) + "\n")
            if carried:
                os.replace(data_partial, files.files_path(final))
            os.replace(partial, final)
            files.fsync_dir(folder)
        except sqlite3.Error as exc:
            raise BackupFailed(f"SQLite could not copy the database: {exc}.") from exc
        except OSError as exc:
            raise BackupFailed(
                f"The backup could not be written to {folder}: {exc.strerror or exc}."
            ) from exc
        finally:
            partial.unlink(missing_ok=True)
            data_partial.unlink(missing_ok=True)
        pruned = files.prune(folder, keep) if keep is not None else []
        return BackupMade(
            path=final,
            size_bytes=size,
            seconds=time.monotonic() - started,
            revision=revision,
            sha256=digest,
            pruned=pruned,
            files_count=carried,
        )
    finally:
        _backup_lock.release()


# -- is a server using the database? -------------------------------------------------------------

# Linux's open-file-description lock query: unlike F_GETLK it also sees locks this process holds,
# and asking takes no lock (so nothing SQLite holds is disturbed).
F_OFD_GETLK = 36
F_WRLCK = 1
F_UNLCK = 2
# SQLite's "dead man switch" byte in the -shm file: every connection to a WAL database holds a
# shared lock on it for as long as it is open, in any process on this machine (containers too).
SQLITE_SHM_DMS_BYTE = 128


def _processes_with_open(paths: set[str]) -> list[str]:
    """Processes (that we may look at) holding any of ``paths`` open, as "pid (command)"."""
    found: list[str] = []
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return found
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target in paths:
                try:
                    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
                    command = raw.replace(b"\x00", b" ").decode("utf-8", "replace").strip()[:80]
                except OSError:
                    command = "?"
                found.append(f"{pid} ({command})")
                break
    return found


def _shm_locked(shm: Path) -> bool:
    """True when some connection (any process, any user that shares this kernel) has the WAL
    database behind ``shm`` open."""
    try:
        fd = os.open(shm, os.O_RDONLY)
    except OSError:
        return False
    try:
        query = struct.pack("hhqqi4x", F_WRLCK, os.SEEK_SET, SQLITE_SHM_DMS_BYTE, 1, 0)
        import fcntl

        answer = fcntl.fcntl(fd, F_OFD_GETLK, query)
        return bool(struct.unpack("hhqqi4x", answer)[0] != F_UNLCK)
    except OSError:
        return False
    finally:
        os.close(fd)


def sqlite_users(path: Path) -> list[str]:
    """Who has the SQLite database at ``path`` open: processes found in /proc, or "a connection in
    another process" when only SQLite's own shared-memory lock tells (another user, a container)."""
    real = str(path.resolve())
    names = {real, f"{real}-wal", f"{real}-shm"}
    holders = _processes_with_open(names)
    if holders:
        return holders
    if _shm_locked(Path(f"{real}-shm")):
        return ["a connection in another process (SQLite's shared-memory lock is held)"]
    return []


async def _pg_connect(database_url: str) -> Any:
    import asyncpg  # type: ignore[import-untyped]

    url = make_url(database_url)
    return await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database=url.database
    )


async def _pg_users(database_url: str) -> list[str]:
    conn = await _pg_connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT pid, coalesce(application_name, '') AS app, coalesce(host(client_addr), 'local') AS addr "
            "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )
    finally:
        await conn.close()
    return [f"connection {r['pid']} from {r['addr']} {r['app']}".strip() for r in rows]


def database_users(settings: Settings) -> list[str]:
    """Who else has the target database open. A restore refuses while anyone does: a running
    server keeps its pooled connections open, and would go on writing to the database it had."""
    if settings.is_sqlite:
        return sqlite_users(_sqlite_file(settings))
    try:
        return asyncio.run(_pg_users(settings.database_url))
    except (OSError, ConnectionError) as exc:
        raise RestoreRefused(
            f"The target database cannot be reached: {exc}.", field="--database-url"
        ) from exc
    except Exception as exc:  # asyncpg's own errors: no such database, password refused, ...
        if type(exc).__module__.startswith("asyncpg"):
            raise RestoreRefused(f"The target database refused us: {exc}.", field="--database-url") from exc
        raise


# -- restoring ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A backup file that passed every check, and what it holds."""

    path: Path
    backend: str
    revision: str
    head: str
    migrate: bool
    files_archive: Path | None = None  # the uploaded files, when the backup carries any


# The migrations shipped with this code (hub/migrations.py runs them; the backup part of the core is
# mounted by the app, which hub/migrations.py imports, so it reads the folder rather than that module).
SCRIPT_LOCATION = Path(__file__).resolve().parent.parent.parent / "alembic"


def _script(settings: Settings) -> ScriptDirectory:
    return ScriptDirectory(str(SCRIPT_LOCATION))


def migrate_forward(settings: Settings) -> None:
    """Upgrade ``settings``' database to the newest revision, as ``hubkeeper db upgrade`` does
    (Alembic's env.py loads every module's models when it runs)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["settings"] = settings
    errors: list[BaseException] = []

    def upgrade() -> None:
        try:
            command.upgrade(config, "head")
        except BaseException as exc:  # re-raised below, in the caller's thread
            errors.append(exc)

    # env.py calls asyncio.run(): give it a thread of its own, whoever calls this.
    worker = threading.Thread(target=upgrade)
    worker.start()
    worker.join()
    if errors:
        raise RestoreRefused(
            f"Migrating the backup forward failed: {errors[0]}. Nothing was restored.", field="FILE"
        ) from errors[0]


def check_backup(settings: Settings, path: Path) -> Checked:
    """Every check a restore makes of the file itself, before it touches the target."""
    if not path.is_file():
        raise RestoreRefused(f"There is no backup file at {path}.", field="FILE")
    recorded = files.read_checksum(path)
    if recorded is None:
        raise RestoreRefused(
            f"{path.name} has no checksum beside it ({files.checksum_path(path).name}); "
            "copy that file with the backup.",
            field="FILE",
        )
    if files.sha256_of(path) != recorded:
        raise RestoreRefused(
            f"{path.name} does not match its checksum: the file is damaged or was changed. "
            "Nothing was restored.",
            field="FILE",
        )
    kind = files.kind_of(path)
    not_ours = f"{path.name} is not a Hubkeeper backup."
    if kind is None:
        raise RestoreRefused(not_ours, field="FILE")
    target_kind = backend_of(settings)
    if kind != target_kind:
        raise RestoreRefused(
            f"{path.name} is a {kind} backup but the target database is {target_kind}; "
            "restore it into a database of its own kind.",
            field="FILE",
        )
    if kind == "sqlite":
        try:
            with closing(_connect_readonly(path)) as conn:
                revision = _sqlite_revision(conn)
                problems = _sqlite_integrity(conn) if revision is not None else []
        except sqlite3.DatabaseError as exc:
            raise RestoreRefused(f"{not_ours} ({exc})", field="FILE") from exc
        if revision is None:
            raise RestoreRefused(f"{not_ours} (it has no schema revision)", field="FILE")
        if problems:
            raise RestoreRefused(
                f"{path.name} fails SQLite's integrity check: {problems[0]}. Nothing was restored.",
                field="FILE",
            )
    else:
        listing = subprocess.run(  # noqa: S603
            [_tool("pg_restore"), "--list", str(path)], capture_output=True, check=False
        )
        revision = pgdump_revision(path) if listing.returncode == 0 else None
        if revision is None:
            raise RestoreRefused(f"{not_ours} (it has no schema revision)", field="FILE")
    script = _script(settings)
    head = script.get_current_head() or ""
    try:
        known = script.get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise RestoreRefused(
            f"{path.name} comes from a newer Hubkeeper (schema revision {revision}; this one knows up to "
            f"{head}). Upgrade Hubkeeper first, then restore it.",
            field="FILE",
        )
    return Checked(
        path=path,
        backend=kind,
        revision=revision,
        head=head,
        migrate=revision != head,
        files_archive=_check_files_archive(path),
    )


def _files_archive_state(path: Path, sidecar: dict[str, Any] | None, *, verify: bool) -> str:
    """The backup's archive of uploaded files: "none" (the sidecar records none), "missing" (not
    beside it), "mismatch" (not the checksum the sidecar records; read only with ``verify``) or "ok"."""
    recorded = files.recorded_files(sidecar)
    if recorded is None:
        return "none"
    archive = files.files_path(path)
    if not archive.is_file():
        return "missing"
    if verify and files.sha256_of(archive) != recorded.get("sha256"):
        return "mismatch"
    return "ok"


def _check_files_archive(path: Path) -> Path | None:
    """The backup's archive of uploaded files, checked against the checksum its sidecar records;
    None when the sidecar says there were none (or, from a backup copied without its sidecar,
    when there is no archive beside it either)."""
    sidecar = files.read_sidecar(path)
    archive = files.files_path(path)
    state = _files_archive_state(path, sidecar, verify=True)
    if state == "none":
        if sidecar is None and archive.is_file():
            raise RestoreRefused(
                f"{archive.name} has nothing to check it against: copy "
                f"{files.sidecar_path(path).name} with the backup. Nothing was restored.",
                field="FILE",
            )
        return None
    if state == "missing":
        count = (files.recorded_files(sidecar) or {}).get("count", "some")
        raise RestoreRefused(
            f"{path.name} carries {count} uploaded file(s) (signed agreements, "
            f"pictures) in {archive.name}, which is not beside it; copy that file with the backup.",
            field="FILE",
        )
    if state == "mismatch":
        raise RestoreRefused(
            f"{archive.name} does not match the checksum recorded in {files.sidecar_path(path).name}: "
            "the file is damaged or was changed. Nothing was restored.",
            field="FILE",
        )
    try:
        datafiles.check(archive)
    except datafiles.UnsafeArchive as exc:
        raise RestoreRefused(
            f"{archive.name} is not a Hubkeeper files archive: {exc}. Nothing was restored.", field="FILE"
        ) from exc
    return archive


def refuse_if_in_use(settings: Settings) -> None:
    users = database_users(settings)
    if users:
        raise RestoreRefused(
            "A server (or another program) has the target database open: "
            f"{'; '.join(users[:3])}. Stop the hub first (e.g. `systemctl stop hubkeeper`), then restore.",
            field="--database-url",
        )


@dataclass(frozen=True)
class Restored:
    target: str
    revision_restored: str
    revision_now: str
    kept: str | None
    seconds: float
    ledger: LedgerCheck | None
    files: datafiles.Extracted | None = None


def _stamp() -> str:
    return datetime.now(UTC).strftime(files.STAMP_FORMAT)


def _restore_sqlite(settings: Settings, checked: Checked) -> str | None:
    target = _sqlite_file(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    stamp = _stamp()
    fresh = target.with_name(f".{target.name}.restoring-{stamp}")
    try:
        with closing(_connect_readonly(checked.path)) as src, closing(sqlite3.connect(fresh)) as dst:
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")
        if checked.migrate:
            migrate_forward(replace(settings, database_url=f"sqlite+aiosqlite:///{fresh}"))
        with closing(sqlite3.connect(fresh)) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")
            problems = _sqlite_integrity(conn)
        if problems:
            raise RestoreRefused(f"The restored copy failed its integrity check: {problems[0]}", field="FILE")
        files.fsync_file(fresh)
        kept: Path | None = None
        if target.exists():
            # The database as it was, WAL included, kept beside it: a restore deletes nothing.
            kept = target.with_name(f"{target.name}.before-restore-{stamp}")
            sqlite_snapshot(target, kept)
        os.replace(fresh, target)
        # A WAL left by the old database would be replayed onto the new one: it is in ``kept``.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        files.fsync_dir(target.parent)
        return str(kept) if kept else None
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{fresh}{suffix}").unlink(missing_ok=True)


async def _pg_has_schema(database_url: str) -> bool:
    conn = await _pg_connect(database_url)
    try:
        return bool(await conn.fetchval("SELECT to_regclass('public.alembic_version') IS NOT NULL"))
    finally:
        await conn.close()


def _restore_postgresql(settings: Settings, checked: Checked) -> str | None:
    """Replace the target database's ``public`` schema with the dump's, in one transaction (a
    failure leaves the database as it was); a backup of the database as it was is made first."""
    kept: str | None = None
    if asyncio.run(_pg_has_schema(settings.database_url)):
        kept = str(make_backup(settings).path.resolve())
    target = pg_target(settings.database_url)
    with tempfile.TemporaryDirectory(prefix="hubkeeper-restore-") as work:
        script = Path(work) / "restore.sql"
        _run(
            [_tool("pg_restore"), "--no-owner", "--no-privileges", f"--file={script}", str(checked.path)],
            target.env,
            "pg_restore",
        )
        _run(
            [
                _tool("psql"),
                "--no-psqlrc",
                "--quiet",
                "--single-transaction",
                "--set=ON_ERROR_STOP=1",
                *target.args,
                f"--dbname={target.database}",
                "--command=DROP SCHEMA IF EXISTS public CASCADE",
                "--command=CREATE SCHEMA public",
                f"--file={script}",
            ],
            target.env,
            "Restoring with psql",
        )
    if checked.migrate:
        try:
            migrate_forward(settings)
        except RestoreRefused as exc:
            # PostgreSQL restores in place, so here the backup is in (at its own revision).
            raise RestoreRefused(
                f"The backup was restored at schema revision {checked.revision}, but migrating it "
                f"forward failed: {exc.__cause__}. Run `hubkeeper db upgrade` once the cause is fixed.",
                field="FILE",
            ) from exc
    return kept


def restore(
    settings: Settings,
    path: Path,
    *,
    ledger_check: Callable[[Settings], LedgerCheck] | None = None,
    confirm: Callable[[Checked], bool] | None = None,
) -> Restored:
    """Restore the backup at ``path`` into ``settings``' database after every check has passed,
    migrate it forward if it is older than this code, then run ``ledger_check`` on it."""
    started = time.monotonic()
    checked = check_backup(settings, path)
    refuse_if_in_use(settings)
    if confirm is not None and not confirm(checked):
        raise RestoreRefused("Not confirmed; nothing was restored.", field="--yes")
    try:
        kept = (
            _restore_sqlite(settings, checked)
            if checked.backend == "sqlite"
            else _restore_postgresql(settings, checked)
        )
    except (OSError, sqlite3.Error) as exc:
        raise BackupFailed(f"The restore could not finish: {exc}.") from exc
    extracted = None
    if checked.files_archive is not None:
        try:
            extracted = datafiles.extract(checked.files_archive, settings.data_dir, _stamp())
        except OSError as exc:
            raise BackupFailed(
                f"The database was restored, but its uploaded files could not be put back in "
                f"{settings.data_dir}: {exc}. Fix that, then restore again."
            ) from exc
    ledger = ledger_check(settings) if ledger_check is not None else None
    return Restored(
        target=_describe(settings),
        revision_restored=checked.revision,
        revision_now=checked.head,
        kept=kept,
        seconds=time.monotonic() - started,
        ledger=ledger,
        files=extracted,
    )


def _describe(settings: Settings) -> str:
    if settings.is_sqlite:
        return str(_sqlite_file(settings))
    return make_url(settings.database_url).render_as_string(hide_password=True)


# -- what the admin page shows ---------------------------------------------------------------------

# Files up to this size are checked against their checksum each time the page is shown; larger
# ones show the check made when they were written.
VERIFY_NOW_MAX_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class BackupStatus:
    file: files.BackupFile
    checksum: str  # "ok", "mismatch" or "missing"
    checked: str  # "now" or "at write"
    ok: bool


def files_carried(backup: files.BackupFile) -> int:
    count = (files.recorded_files(backup.sidecar) or {}).get("count", 0)
    return count if isinstance(count, int) else 0


def backup_statuses(folder: Path, limit: int = 30) -> list[BackupStatus]:
    """Each backup checked against its checksum, and its files archive against the one the
    sidecar records: a backup is OK only when both match."""
    statuses: list[BackupStatus] = []
    for backup in files.find_backups(folder)[:limit]:
        if backup.recorded_sha256 is None:
            statuses.append(BackupStatus(backup, "missing", "now", False))
            continue
        if backup.size_bytes <= VERIFY_NOW_MAX_BYTES:
            database = "ok" if files.sha256_of(backup.path) == backup.recorded_sha256 else "mismatch"
            checked = "now"
        else:
            sidecar_sha = (backup.sidecar or {}).get("sha256")
            database = "ok" if sidecar_sha == backup.recorded_sha256 else "mismatch"
            checked = "at write"
        archive = _files_archive_state(backup.path, backup.sidecar, verify=checked == "now")
        checksum = database if database != "ok" else ("ok" if archive == "none" else archive)
        statuses.append(BackupStatus(backup, checksum, checked, checksum == "ok"))
    return statuses


def age_of_newest(folder: Path) -> timedelta | None:
    newest = files.find_backups(folder)[:1]
    return datetime.now(UTC) - newest[0].taken_at if newest else None
