"""Sign in, sign out, and the home page each role lands on."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from hub.auth import ALL_ROLES, PUBLIC, SESSION_COOKIE, STAFF, roles
from hub.deps import Caller, Db, RegistryDep, SettingsDep, Viewer
from hub.errors import TooManyRequests, Unauthenticated
from hub.services.accounts import login as login_user
from hub.services.accounts import logout as logout_user
from hub.web import cookie, expired_cookie, read_form, redirect, render, safe_next

# Where staff land after signing in unless they asked for a page: the desk, what they use first and
# many times a day. "Home" (``/``) keeps their overview: the organisations, finding one, and for an
# admin the accounts and the latest changes.
DESK = "/desk"


def _client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


@get("/login", opt=PUBLIC, include_in_schema=False)
async def login_page(
    request: Request[Any, Any, Any], viewer: Viewer, next: FromQuery[str | None] = None
) -> Template | Redirect:
    if viewer is not None:
        return Redirect(path=safe_next(next))
    return render(request, "hub/login.html", title="Sign in", next=safe_next(next), email="")


@post("/login", opt=PUBLIC, include_in_schema=False)
async def login_submit(request: Request[Any, Any, Any], db: Db, settings: SettingsDep) -> Template | Redirect:
    form = await read_form(request)
    email, password, target = form.get("email", ""), form.get("password", ""), safe_next(form.get("next"))
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = "Enter your email address."
    if not password:
        errors["password"] = "Enter your password."  # noqa: S105 - form field names
    if errors:
        return render(
            request,
            "hub/login.html",
            status_code=400,
            title="Sign in",
            errors=errors,
            error_summary="Please fill in both fields.",
            next=target,
            email=email,
        )
    try:
        secret, user = await login_user(
            db,
            settings,
            email,
            password,
            ip_address=_client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
        )
    except (Unauthenticated, TooManyRequests) as exc:
        status = 429 if isinstance(exc, TooManyRequests) else 400
        return render(
            request,
            "hub/login.html",
            status_code=status,
            title="Sign in",
            errors={"password": exc.detail},
            error_summary=exc.detail,
            next=target,
            email=email,
        )
    if target == "/" and user.role in STAFF:
        target = DESK  # the desk is what staff use first, many times a day
    response = redirect(request, target)
    response.cookies.append(cookie(request, SESSION_COOKIE, secret, max_age=settings.session_hours * 3600))
    return response


@post("/logout", opt=roles(ALL_ROLES), include_in_schema=False)
async def logout(request: Request[Any, Any, Any], db: Db, identity: Caller) -> Redirect:
    await logout_user(db, identity)
    response = redirect(request, "/login", flash="You have signed out.")
    response.cookies.append(expired_cookie(request, SESSION_COOKIE))
    return response


@get("/", opt=PUBLIC, include_in_schema=False)
async def home(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, registry: RegistryDep, viewer: Viewer
) -> Template:
    """Every module's home panels for the caller's role, in order (each a bounded set of queries)."""
    if viewer is None:
        return render(request, "hub/public_home.html", title="Welcome")
    panels = [
        {"template": panel.template, "data": await panel.load(db, viewer, settings)}
        for panel in registry.home_panels_for(viewer.role)
    ]
    return render(request, "hub/home.html", title="Home", panels=panels)
