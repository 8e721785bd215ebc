"""Secret calendar addresses: one per organisation (for its tenants) and one per person.

The owner can see, rotate (new address, old one stops at once) or revoke theirs; a revoked or
unknown token answers 404 like any other address that does not exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.config import Settings
from hub.db import utcnow
from hub.errors import NotFound, RuleViolation
from hub.security import keyed_hash, new_secret
from hub.services import audit
from rooms.models import FeedToken

Kind = Literal["organisation", "user"]


def token_value(settings: Settings, nonce: str) -> str:
    """256 bits, URL-safe: HMAC of the stored nonce under the server's secret key."""
    digest = hmac.new(settings.secret_key.encode(), f"feed:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _owner(identity: Identity, kind: Kind) -> tuple[int | None, int | None]:
    if kind == "organisation":
        if identity.organisation_id is None:
            raise RuleViolation("your account is not linked to an organisation", field="kind")
        return identity.organisation_id, None
    return None, identity.user_id


async def current(db: AsyncSession, identity: Identity, kind: Kind) -> FeedToken | None:
    organisation_id, user_id = _owner(identity, kind)
    query = select(FeedToken).where(FeedToken.kind == kind, FeedToken.revoked_at.is_(None))
    if organisation_id is not None:
        query = query.where(FeedToken.organisation_id == organisation_id)
    else:
        query = query.where(FeedToken.user_id == user_id)
    token: FeedToken | None = await db.scalar(query.order_by(FeedToken.id.desc()))
    return token


async def issue(db: AsyncSession, settings: Settings, identity: Identity, kind: Kind) -> FeedToken:
    """A new address; any current one of the same kind stops working (rotation)."""
    organisation_id, user_id = _owner(identity, kind)
    old = await current(db, identity, kind)
    now = utcnow()
    if old is not None:
        old.revoked_at = now
    nonce = new_secret(32)
    token = FeedToken(
        kind=kind,
        organisation_id=organisation_id,
        user_id=user_id,
        nonce=nonce,
        token_hash=keyed_hash(settings.secret_key, token_value(settings, nonce)),
        created_by_id=identity.user_id,
        created_at=now,
    )
    db.add(token)
    await db.flush()
    audit.record(
        db,
        identity,
        "feed_token.rotated" if old else "feed_token.created",
        "feed_token",
        token.id,
        summary=f"Calendar address for {kind} {'rotated' if old else 'created'}",
    )
    await db.commit()
    return token


async def revoke(db: AsyncSession, identity: Identity, kind: Kind) -> None:
    token = await current(db, identity, kind)
    if token is None:
        raise NotFound("There is no calendar address to revoke.")
    token.revoked_at = utcnow()
    audit.record(
        db,
        identity,
        "feed_token.revoked",
        "feed_token",
        token.id,
        summary=f"Calendar address for {kind} revoked",
    )
    await db.commit()


async def resolve(db: AsyncSession, settings: Settings, value: str) -> FeedToken | None:
    if not value or len(value) > 100:
        return None
    token: FeedToken | None = await db.scalar(
        select(FeedToken).where(
            FeedToken.token_hash == keyed_hash(settings.secret_key, value), FeedToken.revoked_at.is_(None)
        )
    )
    return token
