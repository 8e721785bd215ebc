"""The core's tables: organisations, accounts and their credentials, and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import Base, BigIntPK, UTCDateTime, utcnow


class OrganisationKind(enum.StrEnum):
    NHS = "nhs"
    STATUTORY = "statutory"
    VCSE = "vcse"
    COMMUNITY_GROUP = "community_group"
    COMMERCIAL = "commercial"
    INDIVIDUAL = "individual"


class RateBand(enum.StrEnum):
    COMMUNITY = "community"
    STATUTORY = "statutory"
    COMMERCIAL = "commercial"
    TENANT = "tenant"


def default_rate_band(kind: OrganisationKind) -> RateBand:
    """Community groups and charities get the community rate; public bodies the statutory one."""
    if kind in (OrganisationKind.VCSE, OrganisationKind.COMMUNITY_GROUP):
        return RateBand.COMMUNITY
    if kind in (OrganisationKind.NHS, OrganisationKind.STATUTORY):
        return RateBand.STATUTORY
    return RateBand.COMMERCIAL


class Role(enum.StrEnum):
    ADMIN = "admin"
    RECEPTIONIST = "receptionist"
    TRUSTEE = "trustee"
    TENANT = "tenant"
    CAFE = "cafe"
    CAFE_SUPERVISOR = "cafe_supervisor"


# Enums are stored as plain strings with CHECK constraints, so that a new value is one
# migration on both databases rather than an ALTER TYPE dance on PostgreSQL.
def _enum_column(length: int = 32) -> Any:
    return String(length)


def one_of(column: str, values: type[enum.StrEnum]) -> CheckConstraint:
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_allowed")


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Lower-cased name for case-insensitive search and uniqueness on both databases.
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(_enum_column())
    charity_number: Mapped[str | None] = mapped_column(String(20))
    company_number: Mapped[str | None] = mapped_column(String(20))
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    town: Mapped[str] = mapped_column(String(100), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    billing_email: Mapped[str | None] = mapped_column(String(254))
    default_rate_band: Mapped[str] = mapped_column(_enum_column())
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="organisation",
        order_by="Contact.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    __table_args__ = (
        Index("ix_organisations_active_name_key", "active", "name_key"),
        one_of("kind", OrganisationKind),
        one_of("default_rate_band", RateBand),
    )


class Contact(Base):
    __tablename__ = "organisation_contacts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(100), default="")

    organisation: Mapped[Organisation] = relationship(back_populates="contacts")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(_enum_column())
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")

    __table_args__ = (one_of("role", Role),)


class UserSession(Base):
    """A signed-in browser. The cookie holds a random secret; only its hash is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class ApiToken(Base):
    """A bearer token for integrations. Shown once on creation; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class LoginAttempt(Base):
    """Every sign-in attempt, kept for throttling by address and for the record."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip_address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_login_attempts_ip_address_at", "ip_address", "at"),)


class AuditEntry(Base):
    """Who changed what, when. Written in the same transaction as the change; never updated, except
    by a data-protection erasure (``hub.privacy``), which replaces a person's details inside it:
    rows and their order stay."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Copied so the entry still reads right if the account is later renamed.
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(300), default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_audit_log_object_type_object_id", "object_type", "object_id"),
        Index("ix_audit_log_at_id", "at", "id"),
    )


class IdempotencyKey(Base):
    """A write that carried an ``Idempotency-Key`` header, and the answer it got.

    Written in the same transaction as the write itself, so a retry either finds the first
    answer (and writes nothing) or finds nothing because nothing was written. Scoped per caller;
    kept at least :data:`hub.idempotency.KEEP_FOR`.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("caller", "key", name="uq_idempotency_keys_caller_key"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    caller: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer, default=0)
    response_body: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
