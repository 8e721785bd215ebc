"""/api/v1/mail — admins read the outbox and send a failed message again."""

from __future__ import annotations

from typing import Annotated

from litestar import get, post
from litestar.params import FromPath, QueryParameter

from hub.auth import ADMIN_ONLY, roles
from hub.deps import Caller, Db, SettingsDep
from hub.mail import services
from hub.mail.schemas import MailMessageDetail, MailPage

ADMIN = roles(ADMIN_ONLY)


@get("/api/v1/mail/messages", opt=ADMIN, tags=["mail"], summary="The outbox, newest first")
async def list_mail(
    db: Db,
    settings: SettingsDep,
    status: Annotated[
        str | None, QueryParameter(max_length=16, description="pending, sent or failed (blank: all)")
    ] = None,
    page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
) -> MailPage:
    return await services.list_messages(
        db,
        status=services.parse_status(status),
        page=page,
        per_page=per_page,
        server_configured=settings.smtp is not None,
    )


@get("/api/v1/mail/messages/{message_id:int}", opt=ADMIN, tags=["mail"], summary="One message")
async def get_mail(db: Db, message_id: FromPath[int]) -> MailMessageDetail:
    return services.message_detail(await services.get_message(db, message_id))


@post(
    "/api/v1/mail/messages/{message_id:int}/retry",
    opt=ADMIN,
    tags=["mail"],
    summary="Send a failed message again",
    description="Back to pending with a fresh count of tries; 409 unless it had failed. Audited.",
    status_code=200,
)
async def retry_mail(db: Db, identity: Caller, message_id: FromPath[int]) -> MailMessageDetail:
    return services.message_detail(await services.retry(db, identity, message_id))
