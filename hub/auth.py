"""Who is calling (:class:`Identity`), the role guard and CSRF. The identity is read from a session
cookie or a bearer token by ``hub/middleware.py``, which asks the accounts service.

Every route states who may call it in its ``opt``: ``roles=`` (a set of :class:`Role`) or
``public=True``. One app-level guard enforces it, so a route that states nothing is refused
rather than left open.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from hub.errors import Forbidden, NotFound, Unauthenticated
from hub.models import Role
from hub.security import constant_time_equals

SESSION_COOKIE = "hub_session"
CSRF_COOKIE = "hub_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

ALL_ROLES = frozenset(Role)
STAFF = frozenset({Role.ADMIN, Role.RECEPTIONIST})
ADMIN_ONLY = frozenset({Role.ADMIN})
CAFE_ROLES = frozenset({Role.CAFE, Role.CAFE_SUPERVISOR})


class Identity(msgspec.Struct, frozen=True):
    """The caller, as known for this request. ``user_id`` is None only for the system (CLI)."""

    user_id: int | None
    email: str
    name: str
    role: Role
    organisation_id: int | None = None
    via: str = "session"  # "session", "token" or "system"
    session_id: int | None = None
    token_id: int | None = None
    csrf_token: str | None = None
    # A token's last-used time is due: it is recorded after the response (never on the way in).
    token_touch_due: bool = False

    @property
    def label(self) -> str:
        return self.email

    @classmethod
    def system(cls, label: str = "system") -> Identity:
        return cls(user_id=None, email=label, name=label, role=Role.ADMIN, via="system")

    def is_role(self, *roles: Role) -> bool:
        return self.role in roles

    def can_see_organisation(self, organisation_id: int | None) -> bool:
        """Tenants see only their own organisation; staff roles see all."""
        if self.role == Role.TENANT:
            return organisation_id is not None and organisation_id == self.organisation_id
        return True

    def require_organisation(self, organisation_id: int | None, what: str = "That") -> None:
        """Another organisation's object answers 404, never 403: its existence is not disclosed."""
        if not self.can_see_organisation(organisation_id):
            raise NotFound(f"{what} was not found.")


def roles(*allowed: Role | Iterable[Role]) -> dict[str, Any]:
    """``opt`` for a route: which roles may call it."""
    result: set[Role] = set()
    for item in allowed:
        if isinstance(item, Role):
            result.add(item)
        else:
            result.update(item)
    return {"roles": frozenset(result)}


PUBLIC: dict[str, Any] = {"public": True}


def current_identity(connection: ASGIConnection[Any, Any, Any, Any]) -> Identity | None:
    user = connection.scope.get("user")
    return user if isinstance(user, Identity) else None


async def _csrf_ok(connection: ASGIConnection[Any, Any, Any, Any], identity: Identity | None) -> bool:
    expected: str | None
    if identity is not None:
        if identity.via != "session":
            return True  # bearer tokens are not sent by browsers on their own: no CSRF risk
        expected = identity.csrf_token
    else:
        expected = connection.cookies.get(CSRF_COOKIE)
    if not expected:
        return False
    supplied = connection.headers.get(CSRF_HEADER)
    if supplied is None:
        content_type = connection.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await Request[Any, Any, Any](connection.scope, connection.receive).form()
            value = form.get(CSRF_FIELD)
            supplied = value if isinstance(value, str) else None
    return supplied is not None and constant_time_equals(supplied, expected)


async def access_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Enforce the route's stated access, then CSRF for cookie-authenticated changes."""
    opt = handler.opt
    identity = current_identity(connection)
    if not opt.get("public"):
        allowed = opt.get("roles")
        if allowed is None:
            # A route that forgot to say who may call it is closed, not open.
            raise Forbidden("This route has no access rule; it is closed.")
        if identity is None:
            raise Unauthenticated("Sign in, or send an API token, to use this.")
        if identity.role not in allowed:
            raise Forbidden(f"Your role ({identity.role.value}) may not do this.")
    method = connection.scope.get("method", "GET")
    if method not in SAFE_METHODS and not opt.get("csrf_exempt") and not await _csrf_ok(connection, identity):
        raise Forbidden(
            "The form's security token is missing or out of date. Reload the page and try again.",
            field=CSRF_FIELD,
        )
