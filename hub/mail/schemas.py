"""What the mail API answers: the outbox's messages as admins see them."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct

from hub.mail.models import MailStatus


class MailAttachmentOut(Struct):
    filename: str
    content_type: str
    size_bytes: int


class MailMessageOut(Struct):
    """One message in the outbox. ``next_attempt_at`` is when a pending message is tried next;
    ``last_error`` what the mail server (or the network) said the last time it was tried."""

    id: int
    kind: str
    status: MailStatus
    to_address: str
    to_name: str
    subject: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    sent_at: datetime | None
    about_type: str | None
    about_id: str | None
    attachments: list[MailAttachmentOut]


class MailMessageDetail(MailMessageOut):
    """A message with its plain-text body (what every recipient can read)."""

    text_body: str = ""
    has_html: bool = False


class MailPage(Struct):
    items: list[MailMessageOut]
    total: int
    page: int
    per_page: int
    # False while HUB_SMTP_URL is not set: messages wait in the outbox.
    server_configured: bool
