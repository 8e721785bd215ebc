"""Backup files on disk: their names, checksums and sidecars, and what a file says it is.

A backup is three or four files side by side in the backup folder::

    hubkeeper-20261204T031500Z-rev0012.sqlite3            the database (or .pgdump)
    hubkeeper-20261204T031500Z-rev0012.sqlite3.sha256     its checksum, in ``sha256sum`` format
    hubkeeper-20261204T031500Z-rev0012.sqlite3.json       when, how big, which revision, row counts,
                                                          and the files archive's own checksum
    hubkeeper-20261204T031500Z-rev0012.sqlite3.files.tar  the uploaded files (signed agreements,
                                                          café menu pictures) under HUB_DATA_DIR, if any

Only names matching :data:`NAME` are ever listed or pruned; anything else in the folder is left alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NAME = re.compile(
    r"^hubkeeper-(?P<stamp>\d{8}T\d{6}Z)-rev(?P<revision>[0-9A-Za-z_]+)\.(?P<ext>sqlite3|pgdump)$"
)
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
EXTENSIONS = {"sqlite": "sqlite3", "postgresql": "pgdump"}
SQLITE_HEADER = b"SQLite format 3\x00"
PGDUMP_HEADER = b"PGDMP"
CHECKSUM_SUFFIX = ".sha256"
SIDECAR_SUFFIX = ".json"
FILES_SUFFIX = ".files.tar"


def backup_name(started_at: datetime, revision: str, backend: str) -> str:
    return (
        f"hubkeeper-{started_at.astimezone(UTC).strftime(STAMP_FORMAT)}-rev{revision}.{EXTENSIONS[backend]}"
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def files_path(path: Path) -> Path:
    """The archive of uploaded files that belongs to the backup at ``path``."""
    return path.with_name(path.name + FILES_SUFFIX)


def recorded_files(sidecar: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a sidecar records of the backup's files archive (name, count, size, sha256), or None
    when the backup carries no uploaded files (or there is no sidecar)."""
    recorded = (sidecar or {}).get("files")
    return recorded if isinstance(recorded, dict) else None


def read_checksum(path: Path) -> str | None:
    """The checksum written beside ``path`` (``sha256sum`` format), or None when there is none."""
    try:
        line = checksum_path(path).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    digest = line.split()[0].lower() if line else ""
    return digest if re.fullmatch(r"[0-9a-f]{64}", digest) else None


def read_sidecar(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` under a temporary name, flush it to disk, then rename it into place."""
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (a crash right after it must not undo it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on a directory; the rename still happened
        pass
    finally:
        os.close(fd)


def kind_of(path: Path) -> str | None:
    """``sqlite`` or ``postgresql`` from the file's first bytes, or None for anything else."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except OSError:
        return None
    if head.startswith(SQLITE_HEADER):
        return "sqlite"
    if head.startswith(PGDUMP_HEADER):
        return "postgresql"
    return None


@dataclass(frozen=True)
class BackupFile:
    """One backup found in the folder, as the admin page and the API show it."""

    name: str
    path: Path
    taken_at: datetime
    revision: str
    backend: str
    size_bytes: int
    recorded_sha256: str | None
    sidecar: dict[str, Any] | None


def find_backups(folder: Path) -> list[BackupFile]:
    """The backups in ``folder``, newest first (by the time in their names)."""
    found: list[BackupFile] = []
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    for path in entries:
        match = NAME.match(path.name)
        if match is None or not path.is_file():
            continue
        found.append(
            BackupFile(
                name=path.name,
                path=path,
                taken_at=datetime.strptime(match["stamp"], STAMP_FORMAT).replace(tzinfo=UTC),
                revision=match["revision"],
                backend="sqlite" if match["ext"] == "sqlite3" else "postgresql",
                size_bytes=path.stat().st_size,
                recorded_sha256=read_checksum(path),
                sidecar=read_sidecar(path),
            )
        )
    found.sort(key=lambda b: (b.taken_at, b.name), reverse=True)
    return found


def prune(folder: Path, keep: int) -> list[str]:
    """Remove all but the newest ``keep`` backups (each with its checksum, sidecar and files). Only files
    named like a backup are touched. Answers the names removed, oldest first."""
    removed: list[str] = []
    for backup in reversed(find_backups(folder)[keep:]):
        companions = (checksum_path(backup.path), sidecar_path(backup.path), files_path(backup.path))
        for path in (*companions, backup.path):
            path.unlink(missing_ok=True)
        removed.append(backup.name)
    return removed
