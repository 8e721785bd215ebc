"""What the backups API answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from msgspec import Struct


class BackupOut(Struct):
    """One backup in the backup folder and whether it still matches its checksum."""

    name: str
    taken_at: datetime
    backend: Literal["sqlite", "postgresql"]
    revision: str
    size_bytes: int
    sha256: str | None
    # "ok": the file matches its checksum (and its archive of uploaded files, if it carries one,
    # the checksum its sidecar records); "mismatch": one does not (damaged or changed);
    # "missing": no checksum file beside it, or its files archive is not there.
    checksum: Literal["ok", "mismatch", "missing"]
    # "now": checked as this answer was made; "at write": too large to read on each request, the
    # check shown is the one made when it was written.
    checked: Literal["now", "at write"]
    ok: bool
    seconds: float | None
    # How many uploaded files (signed agreements, café menu pictures) the backup carries.
    files: int = 0


class BackupList(Struct):
    folder: str
    items: list[BackupOut]
