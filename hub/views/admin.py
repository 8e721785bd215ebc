"""Admin pages: accounts (create, change role, deactivate, reset password) and the audit log."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from hub.auth import ADMIN_ONLY, roles
from hub.deps import Caller, Db, SettingsDep
from hub.errors import DomainError, InvalidInput
from hub.models import Role
from hub.schemas import UserCreate, UserUpdate, convert_input
from hub.services import accounts, audit
from hub.services import organisations as organisations_service
from hub.web import form_errors, read_form, redirect, render

ADMIN = roles(ADMIN_ONLY)
ROLE_LABELS = {
    "admin": "Admin",
    "receptionist": "Receptionist",
    "trustee": "Trustee",
    "tenant": "Tenant",
    "cafe": "Café staff",
    "cafe_supervisor": "Café supervisor",
}


async def _organisation_choices(db: Db, identity: Caller) -> list[tuple[int, str]]:
    result = await organisations_service.search(db, identity, per_page=200)
    return [(o.id, o.name) for o in result.items]


def _int_or_none(value: str, field: str) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput("Choose an organisation from the list.", field=field)
    return int(value)


@get("/admin/users", opt=ADMIN, include_in_schema=False)
async def users_page(
    request: Request[Any, Any, Any],
    db: Db,
    identity: Caller,
    q: FromQuery[str] = "",
    role: FromQuery[str] = "",
) -> Template:
    role_value = Role(role) if role in ROLE_LABELS else None
    result = await accounts.list_users(db, q=q[:200] or None, role=role_value, per_page=200)
    return render(
        request,
        "hub/admin/users.html",
        title="Accounts",
        result=result,
        q=q,
        role=role,
        role_labels=ROLE_LABELS,
        organisations=await _organisation_choices(db, identity),
        values={},
    )


@post("/admin/users", opt=ADMIN, include_in_schema=False)
async def users_create(request: Request[Any, Any, Any], db: Db, identity: Caller) -> Template | Redirect:
    form = await read_form(request)
    try:
        data = convert_input(
            {
                "email": form.get("email", ""),
                "name": form.get("name", ""),
                "role": form.get("role", ""),
                "organisation_id": _int_or_none(form.get("organisation_id", ""), "organisation_id"),
                "password": form.get("password", ""),
            },
            UserCreate,
        )
        user = await accounts.create_user(db, identity, data)
    except DomainError as exc:
        await db.rollback()
        errors, summary = form_errors(exc)
        result = await accounts.list_users(db, per_page=200)
        values = {k: v for k, v in form.items() if k != "password"}
        return render(
            request,
            "hub/admin/users.html",
            status_code=exc.status_code,
            title="Accounts",
            result=result,
            q="",
            role="",
            role_labels=ROLE_LABELS,
            organisations=await _organisation_choices(db, identity),
            values=values,
            errors=errors,
            error_summary=summary,
        )
    return redirect(request, f"/admin/users/{user.id}", flash=f"Account created for {user.email}.")


async def _user_page(
    request: Request[Any, Any, Any],
    db: Db,
    identity: Caller,
    user_id: FromPath[int],
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    error_summary: str | None = None,
) -> Template:
    user = await accounts.get_user(db, user_id)
    history = (await audit.list_entries(db, object_type="user", object_id=str(user.id), per_page=20)).items
    return render(
        request,
        "hub/admin/user.html",
        status_code=status_code,
        title=user.name,
        user=accounts.user_out(user),
        role_labels=ROLE_LABELS,
        organisations=await _organisation_choices(db, identity),
        history=history,
        errors=errors,
        error_summary=error_summary,
    )


@get("/admin/users/{user_id:int}", opt=ADMIN, include_in_schema=False)
async def user_page(
    request: Request[Any, Any, Any], db: Db, identity: Caller, user_id: FromPath[int]
) -> Template:
    return await _user_page(request, db, identity, user_id)


@post("/admin/users/{user_id:int}", opt=ADMIN, include_in_schema=False)
async def user_update(
    request: Request[Any, Any, Any], db: Db, identity: Caller, user_id: FromPath[int]
) -> Template | Redirect:
    form = await read_form(request)
    try:
        data = convert_input(
            {
                "name": form.get("name", ""),
                "role": form.get("role", ""),
                "organisation_id": _int_or_none(form.get("organisation_id", ""), "organisation_id"),
                "active": form.get("active") == "on",
            },
            UserUpdate,
        )
        await accounts.update_user(db, identity, user_id, data)
    except DomainError as exc:
        await db.rollback()
        errors, summary = form_errors(exc)
        return await _user_page(
            request, db, identity, user_id, status_code=exc.status_code, errors=errors, error_summary=summary
        )
    return redirect(request, f"/admin/users/{user_id}", flash="Account saved.")


@post("/admin/users/{user_id:int}/password", opt=ADMIN, include_in_schema=False)
async def user_reset_password(
    request: Request[Any, Any, Any], db: Db, identity: Caller, user_id: FromPath[int]
) -> Template | Redirect:
    form = await read_form(request)
    try:
        if form.get("password", "") != form.get("password_again", ""):
            raise InvalidInput("The two passwords are not the same.", field="password_again")
        user = await accounts.reset_password(db, identity, user_id, form.get("password", ""))
    except DomainError as exc:
        await db.rollback()
        errors, summary = form_errors(exc)
        return await _user_page(
            request, db, identity, user_id, status_code=exc.status_code, errors=errors, error_summary=summary
        )
    return redirect(request, f"/admin/users/{user.id}", flash="Password reset; the account is unlocked.")


@get("/admin/audit", opt=ADMIN, include_in_schema=False)
async def audit_page(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    action: FromQuery[str] = "",
    object_type: FromQuery[str] = "",
    object_id: FromQuery[str] = "",
    on: FromQuery[str] = "",
    page: FromQuery[int] = 1,
) -> Template:
    errors: dict[str, str] = {}
    since = until = None
    if on:
        try:
            day = date.fromisoformat(on)
        except ValueError:
            errors["on"] = "Enter a date such as 2026-11-25."
        else:
            # A day in the building's time zone, whatever the server's clock says.
            since = datetime.combine(day, time.min, tzinfo=settings.zone)
            until = datetime.combine(day + timedelta(days=1), time.min, tzinfo=settings.zone)
    page = max(1, min(page, 100_000))
    result = await audit.list_entries(
        db,
        action=action[:64] or None,
        object_type=object_type[:64] or None,
        object_id=object_id[:64] or None,
        since=since,
        until=until,
        page=page,
        per_page=50,
    )
    pages = max(1, -(-result.total // result.per_page))
    return render(
        request,
        "hub/admin/audit.html",
        title="Audit log",
        result=result,
        action=action,
        object_type=object_type,
        object_id=object_id,
        on=on,
        pages=pages,
        errors=errors,
        object_types=await audit.object_types(db),
    )
