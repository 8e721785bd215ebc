"""Safe retries for writes: the ``Idempotency-Key`` header.

A client that sends a write, loses the answer (a timeout, a dropped connection) and sends it again
must not record the payment twice. A route that takes the header says so with the route option
:data:`IDEMPOTENT` (the OpenAPI document lists the header on exactly those routes) and runs its
work through :func:`once`:

- the first request with a key does the work and stores its answer **in the same transaction**
  as the work, so either both are written or neither is;
- the same key with the same body, from the same caller, answers the stored answer and writes
  nothing — also when the two arrive at once (the second waits for the first: SQLite's write
  lock, or PostgreSQL's unique index on ``(caller, key)``);
- the same key with a different body (or on another route) is a 409 problem;
- keys are scoped per caller (another user's key never matches) and kept for
  :data:`KEEP_FOR` at least; older ones are cleared as the caller writes new ones.

Without the header the route behaves as it always did: each request is a new write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, NamedTuple, TypeVar

import msgspec
from litestar import Request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.db import utcnow
from hub.errors import Conflict, MalformedInput
from hub.models import IdempotencyKey

HEADER = "Idempotency-Key"
# Route option: this route takes an Idempotency-Key (documented in the OpenAPI from this option).
IDEMPOTENT: dict[str, Any] = {"idempotency": True}
KEEP_FOR = timedelta(hours=48)
MAX_KEY_LENGTH = 255

T = TypeVar("T")


def read_key(request: Request[Any, Any, Any]) -> str | None:
    """The request's key, or None without one. A key is 1–255 visible ASCII characters."""
    raw = request.headers.get(HEADER.lower())
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not all(33 <= ord(ch) <= 126 for ch in key):
        raise MalformedInput(
            f"an {HEADER} is 1 to {MAX_KEY_LENGTH} visible ASCII characters (a UUID is ideal)",
            field=HEADER,
        )
    return key


def caller_of(identity: Identity) -> str:
    """Keys belong to the person (a user's tokens and sessions share them)."""
    return f"user:{identity.user_id}" if identity.user_id is not None else f"system:{identity.email}"


def fingerprint(request: Request[Any, Any, Any], data: object) -> str:
    """What makes two requests "the same": the route, the path's values and the parsed body."""
    body = msgspec.json.encode(data, order="sorted") if data is not None else b""
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b" ")
    digest.update(request.url.path.encode())
    digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


class _Stored(NamedTuple):
    fingerprint: str
    status_code: int
    response_body: bytes


async def _stored(db: AsyncSession, caller: str, key: str) -> _Stored | None:
    row = (
        await db.execute(
            select(
                IdempotencyKey.fingerprint, IdempotencyKey.status_code, IdempotencyKey.response_body
            ).where(
                IdempotencyKey.caller == caller,
                IdempotencyKey.key == key,
                IdempotencyKey.created_at >= utcnow() - KEEP_FOR,
            )
        )
    ).first()
    return _Stored(str(row[0]), int(row[1]), bytes(row[2])) if row is not None else None


def _replay(found: _Stored, print_: str, out_type: type[T]) -> T:
    if found.fingerprint != print_:
        raise Conflict(
            f"this {HEADER} was already used for a different request; use a new key for a new request",
            field=HEADER,
        )
    if not found.status_code:
        raise Conflict(f"a request with this {HEADER} is still being carried out", field=HEADER)
    return msgspec.json.decode(found.response_body, type=out_type)


async def once(
    db: AsyncSession,
    request: Request[Any, Any, Any],
    identity: Identity,
    data: object,
    out_type: type[T],
    work: Callable[[], Awaitable[T]],
    *,
    status_code: int = 201,
) -> T:
    """Run ``work`` (which writes but does not commit) and commit it — once per key.

    ``work`` answers the response body; it is stored with the key and committed together with
    what ``work`` wrote.
    """
    key = read_key(request)
    if key is None:
        result = await work()
        await db.commit()
        return result
    caller = caller_of(identity)
    print_ = fingerprint(request, data)
    found = await _stored(db, caller, key)
    if found is not None:
        await db.rollback()
        return _replay(found, print_, out_type)
    # An expired key of this caller's may be reused: clear the caller's old keys first.
    await db.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.caller == caller, IdempotencyKey.created_at < utcnow() - KEEP_FOR
        )
    )
    row = IdempotencyKey(
        caller=caller, key=key, fingerprint=print_, status_code=0, response_body=b"", created_at=utcnow()
    )
    db.add(row)
    try:
        # Written first: a simultaneous twin with the same key waits here for this one's commit
        # (PostgreSQL's unique index; SQLite's write lock is already held), then replays it.
        await db.flush()
        result = await work()
        row.status_code = status_code
        row.response_body = msgspec.json.encode(result)
        await db.commit()
    except IntegrityError:
        await db.rollback()
        found = await _stored(db, caller, key)
        if found is None:
            raise
        await db.rollback()
        return _replay(found, print_, out_type)
    return result


async def remember(
    db: AsyncSession,
    request: Request[Any, Any, Any],
    identity: Identity,
    data: object,
    result: object,
    *,
    status_code: int = 201,
) -> None:
    """Store an answer for a key after the fact, for writes that cannot run inside one
    transaction (a Stripe refund is asked of Stripe between two). Commits."""
    key = read_key(request)
    if key is None:
        return
    db.add(
        IdempotencyKey(
            caller=caller_of(identity),
            key=key,
            fingerprint=fingerprint(request, data),
            status_code=status_code,
            response_body=msgspec.json.encode(result),
            created_at=utcnow(),
        )
    )
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()


async def replay_if_seen(
    db: AsyncSession, request: Request[Any, Any, Any], identity: Identity, data: object, out_type: type[T]
) -> T | None:
    """The stored answer for this request's key, if it has one (409 for a different body)."""
    key = read_key(request)
    if key is None:
        return None
    found = await _stored(db, caller_of(identity), key)
    if found is None:
        return None
    return _replay(found, fingerprint(request, data), out_type)
