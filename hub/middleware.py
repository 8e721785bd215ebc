"""The request's way in: who is calling (session cookie or bearer token) and the request's database
session, opened once and shared with the handler (dependency ``db``).

It sits apart from ``hub/auth.py`` (the identity, the role guard, CSRF) because it asks the accounts
service, which itself uses ``hub.auth``: this module imports both, neither imports it.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth import SAFE_METHODS, SESSION_COOKIE, Identity
from hub.config import Settings
from hub.db import writer
from hub.errors import ServiceUnavailable
from hub.services import accounts

logger = logging.getLogger("hub.middleware")


class IdentityMiddleware(ASGIMiddleware):
    """Resolve who is calling, then open the request's database session.

    Who is calling is read in a short read transaction of its own. The request's session is
    shared with the handler (dependency ``db``). For a request that changes things it is bound
    to the write engine, so each of its transactions holds SQLite's write lock (after its turn in
    the process's queue); whatever it left open ends as the response starts, so the lock is never
    held while the response is sent. A read (GET, HEAD, OPTIONS) only ever reads: it neither
    waits for nor takes that lock. A token's last-used time is recorded after the response.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        state = scope["litestar_app"].state
        maker: async_sessionmaker[AsyncSession] = state.sessionmaker
        identity = await self._identify(maker, ASGIConnection(scope))
        scope["user"] = identity
        scope["auth"] = identity.via if identity else None
        changes = scope.get("method", "GET") not in SAFE_METHODS
        async with maker(bind=state.write_engine) if changes else maker() as db:
            scope["state"]["db"] = db
            await next_app(scope, receive, _ending_transaction_first(db, send) if changes else send)
        if identity is not None and identity.token_touch_due and identity.token_id is not None:
            await _touch_token_after_response(state, identity.token_id)

    async def _identify(
        self, maker: async_sessionmaker[AsyncSession], connection: ASGIConnection[Any, Any, Any, Any]
    ) -> Identity | None:
        authorization = connection.headers.get("authorization", "")
        cookie = connection.cookies.get(SESSION_COOKIE)
        if not authorization.lower().startswith("bearer ") and not cookie:
            return None
        try:
            async with maker() as db:
                if authorization.lower().startswith("bearer "):
                    # A wrong or revoked token is simply no identity: protected routes answer 401.
                    token = authorization[7:].strip()
                    return await accounts.identity_from_api_token(db, self.settings, token)
                assert cookie is not None
                return await accounts.identity_from_session(db, self.settings, cookie)
        except (SQLAlchemyError, OSError) as exc:
            raise ServiceUnavailable("The database cannot be reached.") from exc


def _ending_transaction_first(db: AsyncSession, send: Send) -> Send:
    """``send``, but a transaction the handler left open (reads after its commit, or an
    abandoned change) is rolled back before the response starts, as closing the session would
    do, only sooner: the write lock is not held while the response goes out."""

    async def wrapped(message: Any) -> None:
        if message["type"] == "http.response.start" and db.in_transaction():
            try:
                await db.rollback()
            except (SQLAlchemyError, OSError):
                logger.warning("could not end the request's transaction early", exc_info=True)
        await send(message)

    return wrapped


async def _touch_token_after_response(state: Any, token_id: int) -> None:
    """A token's last-used time, once the response has gone: a short write that gives up at once
    rather than wait for another writer (a later use records it)."""
    try:
        async with state.sessionmaker(bind=writer(state.write_engine, wait=False)) as db:
            await accounts.touch_api_token(db, token_id)
    except Exception:  # the response is sent; a missed touch only delays the time shown
        logger.debug("token %s: last-used time not recorded this time", token_id, exc_info=True)
