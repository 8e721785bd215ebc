"""The outbox: every message the hub sends, written in the same transaction as the event that
causes it, and sent after commit by ``hub.mail.sender`` (never inside a transaction).

Nothing here is deleted: a message is ``pending`` until an SMTP server accepts it (``sent``), or
until the sender gives up after its last try (``failed``, shown to admins, who may send it again).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import Base, BigIntPK, UTCDateTime, utcnow
from hub.models import one_of


class MailStatus(enum.StrEnum):
    PENDING = "pending"  # waiting to be sent (or to be tried again at next_attempt_at)
    SENT = "sent"  # an SMTP server accepted it
    FAILED = "failed"  # the sender gave up; an admin may send it again


class MailMessage(Base):
    """One message to one recipient (recipients never see each other's addresses)."""

    __tablename__ = "mail_messages"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # What the message is, in the hub's words: "invoice_issued", "booking_confirmed", …
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default=MailStatus.PENDING)
    to_address: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    # The thing the message is about (an invoice, a booking), for the admin page and for
    # data-protection requests.
    about_type: Mapped[str | None] = mapped_column(String(64))
    about_id: Mapped[str | None] = mapped_column(String(64))
    # The Message-ID header, made once: a message sent again after a crash carries the same one.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    # Set when the same event must not queue the same message twice (e.g. "invoice_issued:12").
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A sender holds a message while it talks to the server: only the holder of claim_token may
    # record the answer, and another sender takes it over only after claimed_until has passed.
    claim_token: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    attachments: Mapped[list[MailAttachment]] = relationship(
        order_by="MailAttachment.position", lazy="selectin", cascade="save-update, merge"
    )

    __table_args__ = (
        Index("ix_mail_messages_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_mail_messages_about", "about_type", "about_id"),
        Index("ix_mail_messages_to_address", "to_address"),
        one_of("status", MailStatus),
    )


class MailAttachment(Base):
    __tablename__ = "mail_attachments"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("mail_messages.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class PasswordResetToken(Base):
    """A "forgot password" link: single use, valid for an hour; only a keyed hash is kept."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_ip: Mapped[str] = mapped_column(String(64), default="")
