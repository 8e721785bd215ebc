"""Organisation pages: search, add, view, edit, archive and restore."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from hub.auth import STAFF, roles
from hub.deps import Caller, Db
from hub.errors import DomainError, InvalidInput
from hub.models import OrganisationKind, RateBand, Role
from hub.schemas import OrganisationCreate, OrganisationUpdate, convert_input
from hub.services import audit
from hub.services import organisations as service
from hub.web import form_errors, read_form, redirect, render

CONTACT_ROWS = 3
KIND_LABELS = {
    "nhs": "NHS",
    "statutory": "Statutory body",
    "vcse": "Voluntary / community / social enterprise",
    "community_group": "Community group",
    "commercial": "Commercial",
    "individual": "Individual",
}
FIELDS = (
    "name",
    "kind",
    "charity_number",
    "company_number",
    "address_line1",
    "address_line2",
    "town",
    "postcode",
    "billing_email",
    "default_rate_band",
    "notes",
)


def _choices() -> dict[str, Any]:
    return {"kinds": KIND_LABELS, "rate_bands": [(b.value, b.value.capitalize()) for b in RateBand]}


def _form_to_data(form: dict[str, str]) -> tuple[dict[str, Any], list[int]]:
    """Blank optional inputs mean "none"; empty contact rows are dropped.

    Also returns which form row each kept contact came from, to put errors back beside it.
    """
    data: dict[str, Any] = {}
    for name in FIELDS:
        value = form.get(name, "")
        if name in {"charity_number", "company_number", "billing_email", "default_rate_band"}:
            data[name] = (
                value.upper() if value and name in {"charity_number", "company_number"} else (value or None)
            )
        elif name == "postcode":
            data[name] = value.upper()
        else:
            data[name] = value
    contacts = []
    rows: list[int] = []
    index = 0
    while f"contacts-{index}-name" in form or index < CONTACT_ROWS:
        row = {k: form.get(f"contacts-{index}-{k}", "") for k in ("name", "email", "phone", "role")}
        if any(row.values()):
            rows.append(index)
            contacts.append(
                {
                    "name": row["name"],
                    "email": row["email"] or None,
                    "phone": row["phone"] or None,
                    "role": row["role"],
                }
            )
        index += 1
        if index > 40:
            break
    data["contacts"] = contacts
    return data, rows


_CONTACT_FIELD = re.compile(r"^contacts\[(\d+)\]\.(\w+)$")


def _page_errors(exc: DomainError, rows: list[int]) -> tuple[dict[str, str], str]:
    """Name errors after the inputs on the page: ``contacts[1].email`` → ``contacts-3-email``."""
    errors, summary = form_errors(exc)
    named: dict[str, str] = {}
    for field, reason in errors.items():
        match = _CONTACT_FIELD.match(field)
        if match and int(match.group(1)) < len(rows):
            field = f"contacts-{rows[int(match.group(1))]}-{match.group(2)}"
        named[field] = reason
    return named, summary


def _values_from(org: Any | None, form: dict[str, str] | None = None) -> dict[str, Any]:
    """What to put back in the inputs: what was typed after an error, else what is stored."""
    if form is not None:
        return dict(form)
    if org is None:
        return {}
    values = {name: getattr(org, name) or "" for name in FIELDS}
    for index, contact in enumerate(org.contacts):
        for key in ("name", "email", "phone", "role"):
            values[f"contacts-{index}-{key}"] = getattr(contact, key) or ""
    return values


def _contact_row_count(values: dict[str, Any]) -> int:
    used = {int(k.split("-")[1]) for k in values if k.startswith("contacts-") and values[k]}
    return max(CONTACT_ROWS, (max(used) + 2) if used else 0)


@get("/organisations", opt=roles(STAFF, Role.TRUSTEE), include_in_schema=False)
async def organisation_list(
    request: Request[Any, Any, Any],
    db: Db,
    identity: Caller,
    q: FromQuery[str] = "",
    kind: FromQuery[str] = "",
    status: FromQuery[str] = "active",
    page: FromQuery[int] = 1,
) -> Template:
    errors: dict[str, str] = {}
    kind_value = None
    if kind:
        try:
            kind_value = OrganisationKind(kind)
        except ValueError:
            errors["kind"] = "Choose one of the listed kinds."
    if status not in ("active", "archived", "all"):
        errors["status"] = "Choose active, archived or all."
        status = "active"
    page = max(1, min(page, 100_000))
    result = await service.search(
        db,
        identity,
        q=q[:200],
        kind=kind_value,
        page=page,
        per_page=25,
        active={"active": True, "archived": False, "all": None}[status],
    )
    pages = max(1, -(-result.total // result.per_page))
    return render(
        request,
        "hub/organisations/list.html",
        title="Organisations",
        result=result,
        q=q,
        kind=kind,
        status=status,
        pages=pages,
        errors=errors,
        can_edit=identity.role in STAFF,
        **_choices(),
    )


@get("/organisations/new", opt=roles(STAFF), include_in_schema=False)
async def organisation_new(request: Request[Any, Any, Any]) -> Template:
    return render(
        request,
        "hub/organisations/form.html",
        title="Add an organisation",
        org=None,
        values={},
        contact_rows=CONTACT_ROWS,
        **_choices(),
    )


@post("/organisations/new", opt=roles(STAFF), include_in_schema=False)
async def organisation_create(
    request: Request[Any, Any, Any], db: Db, identity: Caller
) -> Template | Redirect:
    form = await read_form(request)
    data, rows = _form_to_data(form)
    try:
        org = await service.create(db, identity, convert_input(data, OrganisationCreate))
    except DomainError as exc:
        await db.rollback()
        errors, summary = _page_errors(exc, rows)
        return render(
            request,
            "hub/organisations/form.html",
            status_code=exc.status_code,
            title="Add an organisation",
            org=None,
            values=form,
            errors=errors,
            error_summary=summary,
            contact_rows=_contact_row_count(form),
            **_choices(),
        )
    return redirect(request, f"/organisations/{org.id}", flash=f"{org.name} was added.")


@get(
    "/organisations/{organisation_id:int}",
    opt=roles(STAFF, Role.TRUSTEE, Role.TENANT),
    include_in_schema=False,
)
async def organisation_detail(
    request: Request[Any, Any, Any], db: Db, identity: Caller, organisation_id: FromPath[int]
) -> Template:
    org = await service.get(db, identity, organisation_id)
    history = None
    if identity.role in STAFF:
        history = (
            await audit.list_entries(db, object_type="organisation", object_id=str(org.id), per_page=20)
        ).items
    values = _values_from(org)
    return render(
        request,
        "hub/organisations/detail.html",
        title=org.name,
        org=service.organisation_out(org),
        values=values,
        history=history,
        can_edit=identity.role in STAFF,
        contact_rows=_contact_row_count(values),
        **_choices(),
    )


@post("/organisations/{organisation_id:int}", opt=roles(STAFF), include_in_schema=False)
async def organisation_update(
    request: Request[Any, Any, Any], db: Db, identity: Caller, organisation_id: FromPath[int]
) -> Template | Redirect:
    form = await read_form(request)
    org = await service.get(db, identity, organisation_id)
    data, rows = _form_to_data(form)
    if data.get("default_rate_band") is None:
        data.pop("default_rate_band")  # "set from the kind" leaves the stored band as it is
    try:
        org = await service.update(db, identity, organisation_id, convert_input(data, OrganisationUpdate))
    except DomainError as exc:
        await db.rollback()
        errors, summary = _page_errors(exc, rows)
        org = await service.get(db, identity, organisation_id)
        return render(
            request,
            "hub/organisations/detail.html",
            status_code=exc.status_code,
            title=org.name,
            org=service.organisation_out(org),
            values=form,
            errors=errors,
            error_summary=summary,
            history=None,
            can_edit=True,
            contact_rows=_contact_row_count(form),
            **_choices(),
        )
    return redirect(request, f"/organisations/{org.id}", flash="Changes saved.")


async def _set_active(
    request: Request[Any, Any, Any], db: Db, identity: Caller, organisation_id: FromPath[int], active: bool
) -> Template | Redirect:
    form = await read_form(request)
    try:
        if not form.get("reason"):
            raise InvalidInput("Say why, for the record.", field="reason")
        org = await service.set_active(db, identity, organisation_id, active=active, reason=form["reason"])
    except DomainError as exc:
        await db.rollback()
        org = await service.get(db, identity, organisation_id)
        errors, summary = form_errors(exc)
        values = _values_from(org)
        return render(
            request,
            "hub/organisations/detail.html",
            status_code=exc.status_code,
            title=org.name,
            org=service.organisation_out(org),
            values=values,
            errors=errors,
            error_summary=summary,
            history=None,
            can_edit=True,
            contact_rows=_contact_row_count(values),
            **_choices(),
        )
    return redirect(
        request, f"/organisations/{org.id}", flash=f"{org.name} was {'restored' if active else 'archived'}."
    )


@post("/organisations/{organisation_id:int}/archive", opt=roles(STAFF), include_in_schema=False)
async def organisation_archive(
    request: Request[Any, Any, Any], db: Db, identity: Caller, organisation_id: FromPath[int]
) -> Template | Redirect:
    return await _set_active(request, db, identity, organisation_id, active=False)


@post("/organisations/{organisation_id:int}/restore", opt=roles(STAFF), include_in_schema=False)
async def organisation_restore(
    request: Request[Any, Any, Any], db: Db, identity: Caller, organisation_id: FromPath[int]
) -> Template | Redirect:
    return await _set_active(request, db, identity, organisation_id, active=True)
