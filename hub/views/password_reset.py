"""Forgot password: ask for a link (/password/forgot), then choose a new password through it
(/password/reset/<secret>). Public pages; the rules live in ``hub/services/password_reset.py``."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from hub.auth import PUBLIC
from hub.deps import Db, SettingsDep
from hub.errors import DomainError, TooManyRequests
from hub.security import MIN_PASSWORD_LENGTH
from hub.services import password_reset
from hub.services.password_reset import LinkRefused
from hub.web import form_errors, read_form, redirect, render

# Every "forgot password" answer takes at least this long, so that the little extra work done for
# an address with an account (storing the link, queueing the message) cannot be timed from outside.
ANSWER_FLOOR_SECONDS = 0.2

# The reset page's address holds the secret: it is never sent to another site as a referrer, and
# no cache keeps the page.
PRIVATE_PAGE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def _client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def _private(response: Template) -> Template:
    response.headers.update(PRIVATE_PAGE)
    return response


@get("/password/forgot", opt=PUBLIC, include_in_schema=False)
async def forgot_page(request: Request[Any, Any, Any]) -> Template:
    return render(request, "hub/password_forgot.html", title="Forgot your password?", email="")


@post("/password/forgot", opt=PUBLIC, include_in_schema=False)
async def forgot_submit(request: Request[Any, Any, Any], db: Db, settings: SettingsDep) -> Template:
    form = await read_form(request)
    email = form.get("email", "")
    began = time.monotonic()
    try:
        await password_reset.request_reset(db, settings, email, ip_address=_client_ip(request))
    except DomainError as exc:
        await db.rollback()
        errors, _summary = form_errors(exc)
        if isinstance(exc, TooManyRequests):
            errors = {"email": exc.detail}
        response = render(
            request,
            "hub/password_forgot.html",
            status_code=exc.status_code,
            title="Forgot your password?",
            errors=errors,
            error_summary=exc.detail,
            email=email,
        )
        response.headers.update(exc.headers)
        return response
    # The same page, after the same time, whether or not the address has an account (the page
    # does not repeat the address).
    await asyncio.sleep(max(0.0, ANSWER_FLOOR_SECONDS - (time.monotonic() - began)))
    return render(request, "hub/password_sent.html", title="Check your email")


async def _reset_form(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    token: str,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    error_summary: str | None = None,
) -> Template:
    try:
        await password_reset.check_link(db, settings, token)
    except LinkRefused as exc:
        return _private(
            render(
                request,
                "hub/password_link.html",
                status_code=exc.status_code,
                title="Link not valid",
                detail=exc.detail,
            )
        )
    finally:
        await db.rollback()
    return _private(
        render(
            request,
            "hub/password_reset.html",
            status_code=status_code,
            title="Choose a new password",
            token=token,
            min_length=MIN_PASSWORD_LENGTH,
            errors=errors,
            error_summary=error_summary,
        )
    )


@get("/password/reset/{token:str}", opt=PUBLIC, include_in_schema=False)
async def reset_page(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, token: FromPath[str]
) -> Template:
    return await _reset_form(request, db, settings, token)


@post("/password/reset/{token:str}", opt=PUBLIC, include_in_schema=False)
async def reset_submit(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, token: FromPath[str]
) -> Template | Redirect:
    form = await read_form(request)
    try:
        await password_reset.complete_reset(
            db,
            settings,
            token,
            form.get("password", ""),
            form.get("confirm", ""),
            ip_address=_client_ip(request),
        )
    except LinkRefused as exc:
        await db.rollback()
        return _private(
            render(
                request,
                "hub/password_link.html",
                status_code=exc.status_code,
                title="Link not valid",
                detail=exc.detail,
            )
        )
    except DomainError as exc:
        await db.rollback()
        errors, summary = form_errors(exc)
        return await _reset_form(
            request, db, settings, token, status_code=exc.status_code, errors=errors, error_summary=summary
        )
    return redirect(request, "/login", flash="Your password has been changed. Sign in with it now.")
