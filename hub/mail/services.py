"""The outbox as admins manage it: list, read, and send a failed message again (audited)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.db import utcnow
from hub.errors import Conflict, InvalidInput
from hub.mail.models import MailMessage, MailStatus
from hub.mail.schemas import MailAttachmentOut, MailMessageDetail, MailMessageOut, MailPage
from hub.queries import get_or_404, page_of
from hub.services import audit


def parse_status(value: str | None, field: str = "status") -> MailStatus | None:
    """``pending``, ``sent`` or ``failed``; blank is "any"."""
    if not value:
        return None
    try:
        return MailStatus(value)
    except ValueError:
        choices = ", ".join(s.value for s in MailStatus)
        raise InvalidInput(f"must be one of {choices}", field=field) from None


def message_out(message: MailMessage) -> MailMessageOut:
    return MailMessageOut(
        id=message.id,
        kind=message.kind,
        status=MailStatus(message.status),
        to_address=message.to_address,
        to_name=message.to_name,
        subject=message.subject,
        created_at=message.created_at,
        attempts=message.attempts,
        next_attempt_at=message.next_attempt_at if message.status == MailStatus.PENDING else None,
        last_error=message.last_error,
        sent_at=message.sent_at,
        about_type=message.about_type,
        about_id=message.about_id,
        attachments=[
            MailAttachmentOut(filename=a.filename, content_type=a.content_type, size_bytes=len(a.data))
            for a in message.attachments
        ],
    )


# Messages whose text holds a secret (a password-reset link): nobody but the recipient reads it,
# admins included; they see that it was sent, not the link.
SECRET_KINDS = frozenset({"password_reset"})
HIDDEN_TEXT = "(Not shown: this message holds a single-use link that only its recipient may see.)"


def message_detail(message: MailMessage) -> MailMessageDetail:
    out = message_out(message)
    fields = {name: getattr(out, name) for name in out.__struct_fields__}
    text = HIDDEN_TEXT if message.kind in SECRET_KINDS else message.text_body
    return MailMessageDetail(**fields, text_body=text, has_html=bool(message.html_body))


async def list_messages(
    db: AsyncSession,
    *,
    status: MailStatus | None = None,
    page: int = 1,
    per_page: int = 50,
    server_configured: bool = True,
) -> MailPage:
    """The outbox, newest first (two queries, attachments loaded in one more)."""
    query = select(MailMessage).order_by(MailMessage.created_at.desc(), MailMessage.id.desc())
    if status is not None:
        query = query.where(MailMessage.status == status.value)
    found = await page_of(db, query, page=page, per_page=per_page)
    return MailPage(
        items=[message_out(m) for m in found.rows],
        total=found.total,
        page=page,
        per_page=per_page,
        server_configured=server_configured,
    )


async def get_message(db: AsyncSession, message_id: int) -> MailMessage:
    return await get_or_404(db, MailMessage, message_id, "That message")


async def retry(db: AsyncSession, actor: Identity, message_id: int) -> MailMessage:
    """A failed message goes back to pending, to be sent at the sender's next run, with a fresh
    count of tries (its last error is kept until then). Only a failed one: a pending message is
    already waiting and a sent one was accepted by the mail server (409, naming ``status``).
    Audited; commits."""
    message = await get_message(db, message_id)
    if message.status != MailStatus.FAILED:
        what = "is already waiting to be sent" if message.status == MailStatus.PENDING else "was sent"
        raise Conflict(f"this message {what}; only a failed message can be sent again", field="status")
    before = message.attempts
    now = utcnow()
    # Guarded by its status, so two admins pressing "Send again" at once count once.
    done = await db.execute(
        update(MailMessage)
        .where(MailMessage.id == message.id, MailMessage.status == MailStatus.FAILED.value)
        .values(
            status=MailStatus.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            claim_token=None,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        await db.rollback()
        raise Conflict("this message was changed meanwhile; reload and try again", field="status")
    audit.record(
        db,
        actor,
        "mail.retried",
        "mail_message",
        message.id,
        summary=f"Send again: {message.kind} to {message.to_address}",
        changes={"status": ["failed", "pending"], "attempts": [before, 0]},
    )
    await db.commit()
    await db.refresh(message)
    return message
