"""/admin/mail: the outbox as an admin sees it (status, recipient, tries, the last error), one
message's text and attachments, and "Send again" for a failed one."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from hub.auth import ADMIN_ONLY, roles
from hub.deps import Caller, Db, SettingsDep
from hub.errors import DomainError
from hub.mail import services
from hub.mail.models import MailStatus
from hub.mail.sender import MAX_ATTEMPTS
from hub.services import audit
from hub.web import redirect, render

ADMIN = roles(ADMIN_ONLY)
STATUS_LABELS = {"pending": "Waiting", "sent": "Sent", "failed": "Failed"}
PER_PAGE = 50


@get("/admin/mail", opt=ADMIN, include_in_schema=False)
async def outbox_page(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    status: FromQuery[str] = "",
    page: FromQuery[int] = 1,
) -> Template:
    chosen = MailStatus(status) if status in STATUS_LABELS else None
    page = max(1, min(page, 100_000))
    result = await services.list_messages(
        db, status=chosen, page=page, per_page=PER_PAGE, server_configured=settings.smtp is not None
    )
    return render(
        request,
        "hub/admin/mail.html",
        title="Mail",
        result=result,
        status=chosen.value if chosen else "",
        status_labels=STATUS_LABELS,
        pages=max(1, -(-result.total // PER_PAGE)),
    )


async def _message_page(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    message_id: int,
    *,
    status_code: int = 200,
    error_summary: str | None = None,
) -> Template:
    message = services.message_detail(await services.get_message(db, message_id))
    history = (
        await audit.list_entries(db, object_type="mail_message", object_id=str(message.id), per_page=20)
    ).items
    return render(
        request,
        "hub/admin/mail_message.html",
        status_code=status_code,
        title=message.subject,
        message=message,
        status_labels=STATUS_LABELS,
        max_attempts=MAX_ATTEMPTS,
        server_configured=settings.smtp is not None,
        history=history,
        error_summary=error_summary,
    )


@get("/admin/mail/{message_id:int}", opt=ADMIN, include_in_schema=False)
async def message_page(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, message_id: FromPath[int]
) -> Template:
    return await _message_page(request, db, settings, message_id)


@post("/admin/mail/{message_id:int}/retry", opt=ADMIN, include_in_schema=False)
async def message_retry(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    message_id: FromPath[int],
) -> Template | Redirect:
    try:
        await services.retry(db, identity, message_id)
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        await db.rollback()
        return await _message_page(
            request, db, settings, message_id, status_code=exc.status_code, error_summary=exc.detail
        )
    flash = "The message will be sent again at the sender's next run."
    if settings.smtp is None:
        flash = "The message is waiting again; no mail server is set (HUB_SMTP_URL), so it stays here."
    return redirect(request, f"/admin/mail/{message_id}", flash=flash)
