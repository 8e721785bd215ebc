"""The uploaded files under ``HUB_DATA_DIR`` (signed agreements, café menu pictures), kept with a backup.

The database names these files but does not hold them, so a backup of the database alone would
restore agreements whose signed PDF is gone. Each backup carries a tar archive of the data folder,
taken just after the database copy. Uploads are written under a new random name before the row
that names them commits, and are never overwritten or deleted, so every file the copied database
names is already on disk when the archive is made (a file uploaded in between is carried too, and
is simply not named by anything).

Restoring puts each archived file back. A file already there with the same bytes is left alone; one
with different bytes (which uploads never make) is kept beside it as ``<name>.before-restore-<time>``
rather than overwritten: a restore deletes nothing.
"""

from __future__ import annotations

import os
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

CHUNK = 1024 * 1024


def _kept_files(data_dir: Path, leave_out: Path) -> list[Path]:
    """Regular files under ``data_dir``; names starting with a dot (an upload still being written,
    ``.x.part``), symbolic links and the backup folder (should it be inside) are left out."""
    found: list[Path] = []
    if not data_dir.is_dir():
        return found
    leave_out = leave_out.resolve()
    for root, dirs, names in os.walk(data_dir, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (Path(root) / d).resolve() != leave_out)
        for name in sorted(names):
            path = Path(root) / name
            if not name.startswith(".") and path.is_file() and not path.is_symlink():
                found.append(path)
    return found


def archive(data_dir: Path, target: Path) -> int:
    """Write the files under ``data_dir`` into the tar file ``target`` (paths relative to it);
    answer how many."""
    count = 0
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tar:
        for path in _kept_files(data_dir, leave_out=target.parent):
            try:
                info = tar.gettarinfo(str(path), arcname=path.relative_to(data_dir).as_posix())
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
            except FileNotFoundError:  # gone between the listing and now: not the hub's doing
                continue
            count += 1
    return count


class UnsafeArchive(ValueError):
    """A member that is not a plain file under the data folder (an absolute path, ``..``, a link)."""


def _member_target(data_dir: Path, member: tarfile.TarInfo) -> Path:
    name = PurePosixPath(member.name)
    if not member.isfile() or name.is_absolute() or ".." in name.parts or not name.parts:
        raise UnsafeArchive(f"{member.name!r} is not a plain file inside the data folder")
    return data_dir.joinpath(*name.parts)


def check(path: Path) -> None:
    """Read the whole archive: every member must be a plain file with a safe name."""
    try:
        with tarfile.open(path, "r:") as tar:
            members = tar.getmembers()
    except (tarfile.TarError, EOFError) as exc:
        raise UnsafeArchive(f"it cannot be read as a tar archive ({exc})") from exc
    for member in members:
        _member_target(Path("/data"), member)


@dataclass(frozen=True)
class Extracted:
    written: int
    unchanged: int
    kept_aside: list[str]


def _same_bytes(path: Path, tar: tarfile.TarFile, member: tarfile.TarInfo) -> bool:
    if path.stat().st_size != member.size:
        return False
    source = tar.extractfile(member)
    assert source is not None
    with path.open("rb") as handle:
        while True:
            ours, theirs = handle.read(CHUNK), source.read(CHUNK)
            if ours != theirs:
                return False
            if not ours:
                return True


def extract(path: Path, data_dir: Path, stamp: str) -> Extracted:
    """Put the archive's files back under ``data_dir`` (see the module's note)."""
    written = unchanged = 0
    kept: list[str] = []
    with tarfile.open(path, "r:") as tar:
        for member in tar.getmembers():
            target = _member_target(data_dir, member)
            if target.is_file() and _same_bytes(target, tar, member):
                unchanged += 1
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                aside = target.with_name(f"{target.name}.before-restore-{stamp}")
                os.replace(target, aside)
                kept.append(str(aside))
            partial = target.with_name(f".{target.name}.restoring")
            source = tar.extractfile(member)
            assert source is not None
            with partial.open("wb") as handle:
                while block := source.read(CHUNK):
                    handle.write(block)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, target)
            written += 1
    return Extracted(written=written, unchanged=unchanged, kept_aside=kept)


__all__ = ["Extracted", "UnsafeArchive", "archive", "check", "extract"]
