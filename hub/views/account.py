"""The signed-in person's own account: a page of what is theirs (API tokens, and what other modules
file under ``/account/``, such as My calendars), and their API tokens."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from hub.auth import ALL_ROLES, roles
from hub.deps import Caller, Db, SettingsDep
from hub.errors import DomainError
from hub.services import accounts
from hub.web import NavItem, form_errors, nav_for, read_form, redirect, render

EVERYONE = roles(ALL_ROLES)
TOKENS = NavItem("API tokens", "/account/tokens", frozenset(ALL_ROLES), order=90)


@get("/account", opt=EVERYONE, include_in_schema=False)
async def account_page(request: Request[Any, Any, Any], identity: Caller) -> Template:
    """Every signed-in role has one. The modules' own account pages are the navigation items under
    ``/account/`` the caller may see (API tokens is the core's own, and in no menu but an admin's)."""
    shown = nav_for([*request.app.state.nav, TOKENS], identity)
    items = [i for i in shown if i.href.startswith("/account/")]
    return render(request, "hub/account/index.html", title="Your account", items=items)


async def _tokens_page(
    request: Request[Any, Any, Any], db: Db, identity: Caller, *, status_code: int = 200, **context: Any
) -> Template:
    tokens = [accounts.token_out(t) for t in await accounts.list_tokens(db, identity)]
    return render(
        request,
        "hub/account/tokens.html",
        status_code=status_code,
        title="API tokens",
        tokens=tokens,
        **context,
    )


@get("/account/tokens", opt=EVERYONE, include_in_schema=False)
async def tokens_page(request: Request[Any, Any, Any], db: Db, identity: Caller) -> Template:
    return await _tokens_page(request, db, identity)


@post("/account/tokens", opt=EVERYONE, include_in_schema=False)
async def tokens_create(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller
) -> Template:
    form = await read_form(request)
    try:
        secret, token = await accounts.create_token(db, settings, identity, form.get("name", ""))
    except DomainError as exc:
        await db.rollback()
        errors, summary = form_errors(exc)
        return await _tokens_page(
            request, db, identity, status_code=exc.status_code, errors=errors, error_summary=summary
        )
    # The secret is on this one page only; it is never stored or shown again.
    return await _tokens_page(
        request, db, identity, status_code=201, new_secret=secret, new_token_name=token.name
    )


@post("/account/tokens/{token_id:int}/revoke", opt=EVERYONE, include_in_schema=False)
async def tokens_revoke(
    request: Request[Any, Any, Any], db: Db, identity: Caller, token_id: FromPath[int]
) -> Redirect:
    token = await accounts.revoke_token(db, identity, token_id)
    return redirect(request, "/account/tokens", flash=f"Token '{token.name}' revoked.")
