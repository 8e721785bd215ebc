"""The web shell: navigation each role sees, page rendering, forms, flash messages, and the one
place errors become responses (:func:`exception_handler`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from litestar import MediaType, Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from hub.auth import CSRF_COOKIE, CSRF_FIELD, Identity, current_identity
from hub.config import Settings
from hub.errors import (
    DomainError,
    FieldError,
    Problem,
    problem_of,
    problem_response,
    status_title,
    wants_json,
)
from hub.headers import came_over_https
from hub.models import Role
from hub.security import new_secret
from hub.text import strip_control

FLASH_COOKIE = "hub_flash"

# Unexpected errors are logged under the name they always had.
logger = logging.getLogger("hub.errors")


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    roles: frozenset[Role]
    order: int = 100

    def visible_to(self, identity: Identity | None) -> bool:
        return identity is not None and identity.role in self.roles


def nav_for(items: Iterable[NavItem], identity: Identity | None) -> list[NavItem]:
    return sorted((i for i in items if i.visible_to(identity)), key=lambda i: (i.order, i.label))


def _secure(request: Request[Any, Any, Any], settings: Settings) -> bool:
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return came_over_https(request.scope, settings)


def cookie(request: Request[Any, Any, Any], key: str, value: str, *, max_age: int | None = None) -> Cookie:
    settings: Settings = request.app.state.settings
    return Cookie(
        key=key,
        value=value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=_secure(request, settings),
        path="/",
    )


def expired_cookie(request: Request[Any, Any, Any], key: str) -> Cookie:
    return cookie(request, key, "", max_age=0)


def render(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status_code: int = 200,
    title: str = "",
    errors: Mapping[str, str] | None = None,
    error_summary: str | None = None,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Template:
    """Render a page with the shell's context: who is signed in, their navigation, CSRF token."""
    settings: Settings = request.app.state.settings
    identity = current_identity(request)
    out_cookies = list(cookies or [])
    if identity is not None and identity.csrf_token:
        csrf_token = identity.csrf_token
    else:
        csrf_token = request.cookies.get(CSRF_COOKIE) or ""
        if not csrf_token:
            csrf_token = new_secret(24)
            out_cookies.append(cookie(request, CSRF_COOKIE, csrf_token))
    flash = request.cookies.get(FLASH_COOKIE)
    if flash:
        out_cookies.append(expired_cookie(request, FLASH_COOKIE))
    return Template(
        template_name=template,
        context={
            "identity": identity,
            "nav": nav_for(request.app.state.nav, identity),
            "hub_csrf_field": CSRF_FIELD,
            "hub_csrf": csrf_token,
            "hub_name": settings.hub_name,
            "current_path": request.url.path,
            "flash": unquote(flash) if flash else None,
            "title": title,
            "errors": dict(errors or {}),
            "error_summary": error_summary,
            "timezone": settings.timezone,
            **context,
        },
        status_code=status_code,
        media_type=MediaType.HTML,
        cookies=out_cookies,
    )


def redirect(request: Request[Any, Any, Any], path: str, flash: str | None = None) -> Redirect:
    """Post/redirect/get, with an optional one-time message shown on the next page."""
    cookies = [cookie(request, FLASH_COOKIE, quote(flash), max_age=60)] if flash else []
    return Redirect(path=path, status_code=303, cookies=cookies)


async def read_form(request: Request[Any, Any, Any]) -> dict[str, str]:
    """Form fields as strings (the CSRF token was already checked by the access guard)."""
    form = await request.form()
    return {
        k: strip_control(v).strip() if isinstance(v, str) else "" for k, v in form.items() if k != CSRF_FIELD
    }


def form_errors(error: DomainError) -> tuple[dict[str, str], str]:
    """Field → message for showing beside inputs, and a summary for the top of the form."""
    by_field: dict[str, str] = {}
    for item in error.errors:
        by_field.setdefault(item.field, item.reason)
    count = len(by_field)
    summary = (
        error.detail
        if not count
        else f"Please correct {'this field' if count == 1 else f'these {count} fields'}."
    )
    return by_field, summary


def safe_next(target: str | None, default: str = "/") -> str:
    """Only follow same-site paths after sign-in (no //evil.example or absolute URLs)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def field_error(field: str, reason: str) -> FieldError:
    return FieldError(field=field, reason=reason)


def error_page(
    request: Request[Any, Any, Any], status: int, detail: str, headers: dict[str, str] | None = None
) -> Response[Any]:
    """An error as a browser sees it: a 401 goes to sign in (and back), anything else is a page."""
    if status == 401:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return Redirect(path=f"/login?next={quote(target, safe='/')}")
    template = {403: "hub/errors/403.html", 404: "hub/errors/404.html"}.get(status, "hub/errors/error.html")
    response = render(request, template, status_code=status, title=status_title(status), detail=detail)
    if headers:
        response.headers.update(headers)
    return response


def exception_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The single place errors become responses: RFC 9457 problem details for the API, a page
    for a browser."""
    problem = problem_of(exc)
    if problem is None:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        problem = Problem(HTTP_500_INTERNAL_SERVER_ERROR, "An unexpected error occurred; it has been logged.")
    if wants_json(request):
        return problem_response(
            request,
            problem.status,
            problem.detail,
            slug=problem.slug,
            title=problem.title,
            errors=problem.errors,
            headers=problem.headers,
            extra=problem.extra,
        )
    return error_page(request, problem.status, problem.detail, problem.headers)
