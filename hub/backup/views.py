"""/admin/backups (the page) and /api/v1/backups: recent backups and their status, for admins;
the page's "Back up now" makes one while the hub keeps serving."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Literal, cast

from litestar import Request, get, post
from litestar.response import Redirect, Template

from hub.auth import ADMIN_ONLY, roles
from hub.backup import service
from hub.backup.commands import human_size
from hub.backup.schemas import BackupList, BackupOut
from hub.deps import Caller, Db, SettingsDep
from hub.errors import DomainError, InvalidInput
from hub.services import audit
from hub.web import read_form, redirect, render

ADMIN = roles(ADMIN_ONLY)


def _seconds(sidecar: dict[str, Any] | None) -> float | None:
    if not sidecar:
        return None
    try:
        started = datetime.fromisoformat(str(sidecar["started_at"]))
        finished = datetime.fromisoformat(str(sidecar["finished_at"]))
    except (KeyError, ValueError):
        return None
    return round((finished - started).total_seconds(), 3)


def _out(status: service.BackupStatus) -> BackupOut:
    backup = status.file
    return BackupOut(
        name=backup.name,
        taken_at=backup.taken_at,
        backend=cast(Literal["sqlite", "postgresql"], backup.backend),
        revision=backup.revision,
        size_bytes=backup.size_bytes,
        sha256=backup.recorded_sha256,
        checksum=cast(Literal["ok", "mismatch", "missing"], status.checksum),
        checked=cast(Literal["now", "at write"], status.checked),
        ok=status.ok,
        seconds=_seconds(backup.sidecar),
        files=service.files_carried(backup),
    )


async def _list(settings: SettingsDep) -> list[BackupOut]:
    # Reading and hashing files is blocking work: keep it off the event loop.
    statuses = await asyncio.to_thread(service.backup_statuses, settings.backup_dir)
    return [_out(s) for s in statuses]


@get(
    "/api/v1/backups",
    opt=ADMIN,
    tags=["backups"],
    summary="Recent backups, newest first, each checked against its checksum",
)
async def list_backups(settings: SettingsDep) -> BackupList:
    return BackupList(folder=str(settings.backup_dir), items=await _list(settings))


def _page(
    request: Request[Any, Any, Any],
    settings: SettingsDep,
    items: list[BackupOut],
    *,
    status_code: int = 200,
    error_summary: str | None = None,
) -> Template:
    return render(
        request,
        "backup/backups.html",
        status_code=status_code,
        title="Backups",
        items=items,
        folder=settings.backup_dir,
        human_size=human_size,
        is_sqlite=settings.is_sqlite,
        error_summary=error_summary,
    )


@get("/admin/backups", opt=ADMIN, include_in_schema=False)
async def backups_page(request: Request[Any, Any, Any], settings: SettingsDep) -> Template:
    return _page(request, settings, await _list(settings))


@post("/admin/backups", opt=ADMIN, include_in_schema=False)
async def backup_now(
    request: Request[Any, Any, Any], db: Db, identity: Caller, settings: SettingsDep
) -> Template | Redirect:
    """Make a backup on a worker thread while the hub keeps serving, then record who asked."""
    form = await read_form(request)
    if form.get("action") != "backup":
        # Only the page's own button asks for a backup: anything else posted here changes nothing.
        error = InvalidInput("Use the Back up now button to make a backup.", field="action")
        return _page(
            request,
            settings,
            await _list(settings),
            status_code=error.status_code,
            error_summary=error.detail,
        )
    # The request's session has begun no transaction yet, so no write lock is held while copying.
    try:
        made = await asyncio.to_thread(service.make_backup, settings)
    except DomainError as exc:
        return _page(
            request,
            settings,
            await _list(settings),
            status_code=exc.status_code,
            error_summary=f"No backup was made: {exc.detail}",
        )
    audit.record(
        db,
        identity,
        "backup.created",
        "backup",
        made.path.name[:64],
        summary=f"Backup {made.path.name} ({human_size(made.size_bytes)}, {made.seconds:.1f} s)",
    )
    await db.commit()
    return redirect(
        request, "/admin/backups", flash=f"Backup written: {made.path.name} ({human_size(made.size_bytes)})."
    )
