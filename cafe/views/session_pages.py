"""Till sessions as a supervisor runs them: open one with a counted float, cash up by denomination
(expected cash, card and other shown, the variance explained), the X/Z report to print; and a sale's
receipt, with refunds of chosen lines and voids (supervisor, with a reason)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from cafe.models import DENOMINATIONS
from cafe.schemas import RefundIn, SessionClose, SessionOpen, VoidIn
from cafe.services import sales as sales_service
from cafe.services import tills
from cafe.views.till import SUPERVISORS, TILL_ROLES
from hub.auth import roles
from hub.deps import Caller, Db, SettingsDep
from hub.errors import DomainError, InvalidInput
from hub.forms import Problems, parse_pence
from hub.models import Role
from hub.money import format_pence
from hub.schemas import convert_input
from hub.web import form_errors, read_form, redirect, render

SUPERVISOR_ONLY = roles(SUPERVISORS)
# Trustees read every report (DESIGN §6); the X/Z report is one.
REPORT_READERS = roles(TILL_ROLES["roles"], Role.TRUSTEE)


def denomination_label(pence: int) -> str:
    return f"£{pence // 100}" if pence >= 100 else f"{pence}p"


DENOMINATION_FIELDS = [(f"count-{d}", d, denomination_label(d)) for d in DENOMINATIONS]


async def _sessions_page(
    request: Request[Any, Any, Any],
    db: Db,
    identity: Caller,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    summary: str | None = None,
    status_code: int = 200,
) -> Template:
    open_sessions = await tills.list_sessions(db, status="open")
    closed = await tills.list_sessions(db, status="closed", limit=30)
    all_tills = await tills.list_tills(db)
    return render(
        request,
        "cafe/sessions.html",
        status_code=status_code,
        title="Till sessions",
        open_sessions=open_sessions,
        closed_sessions=closed,
        free_tills=[(t.id, t.name) for t in all_tills if t.open_session_id is None],
        supervisor=identity.role in SUPERVISORS,
        values=values or {"float": "100.00"},
        errors=errors or {},
        error_summary=summary,
        money=format_pence,
    )


@get("/till/sessions", opt=TILL_ROLES, include_in_schema=False)
async def sessions_page(request: Request[Any, Any, Any], db: Db, identity: Caller) -> Template:
    return await _sessions_page(request, db, identity)


@post("/till/sessions", opt=SUPERVISOR_ONLY, include_in_schema=False)
async def session_open(request: Request[Any, Any, Any], db: Db, identity: Caller) -> Template | Redirect:
    form = await read_form(request)
    try:
        problems = Problems()
        float_pence = problems.read(parse_pence, form.get("float"), "float")
        till_id = int(form["till_id"]) if form.get("till_id", "").isdigit() else None
        if till_id is None:
            problems.add("till_id", "Choose the till.")
        if problems.items:
            raise InvalidInput("Please correct the form.", errors=problems.items)
        opened = await tills.open_session(
            db, identity, convert_input({"till_id": till_id, "float_pence": float_pence}, SessionOpen)
        )
    except DomainError as exc:
        await db.rollback()
        errors, summary = form_errors(exc)
        errors = {("float" if k == "float_pence" else k): v for k, v in errors.items()}
        return await _sessions_page(
            request, db, identity, values=form, errors=errors, summary=summary, status_code=exc.status_code
        )
    return redirect(
        request,
        "/till/sessions",
        flash=f"{opened.till_name} is open with a float of {format_pence(opened.float_pence)}.",
    )


async def _close_page(
    request: Request[Any, Any, Any],
    db: Db,
    session_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    summary: str | None = None,
    status_code: int = 200,
) -> Template:
    report = await tills.report(db, session_id)
    return render(
        request,
        "cafe/close.html",
        status_code=status_code,
        title=f"Cash up {report.session.till_name}",
        report=report,
        denominations=DENOMINATION_FIELDS,
        values=values or {},
        errors=errors or {},
        error_summary=summary,
        money=format_pence,
    )


@get("/till/sessions/{session_id:int}/close", opt=SUPERVISOR_ONLY, include_in_schema=False)
async def session_close_page(request: Request[Any, Any, Any], db: Db, session_id: FromPath[int]) -> Template:
    return await _close_page(request, db, session_id)


@post("/till/sessions/{session_id:int}/close", opt=SUPERVISOR_ONLY, include_in_schema=False)
async def session_close(
    request: Request[Any, Any, Any],
    db: Db,
    identity: Caller,
    settings: SettingsDep,
    session_id: FromPath[int],
) -> Template | Redirect:
    form = await read_form(request)
    try:
        problems = Problems()
        counted: dict[str, int] = {}
        for name, pence, label in DENOMINATION_FIELDS:
            raw = form.get(name, "").strip()
            if not raw:
                continue
            if not raw.isdigit() or len(raw) > 6:
                problems.add(name, f"Enter how many {label} there are, as a whole number (0 if none).")
                continue
            counted[str(pence)] = int(raw)
        if problems.items:
            raise InvalidInput("Please correct the counts.", errors=problems.items)
        data = convert_input(
            {"counted": counted, "variance_reason": form.get("variance_reason", "")}, SessionClose
        )
        closed = await tills.close_session(db, settings, identity, session_id, data)
    except DomainError as exc:
        await db.rollback()
        errors, summary = form_errors(exc)
        return await _close_page(
            request, db, session_id, values=form, errors=errors, summary=summary, status_code=exc.status_code
        )
    return redirect(
        request,
        f"/till/sessions/{closed.id}/report",
        flash=f"{closed.till_name} is closed. This is its Z report.",
    )


@get("/till/sessions/{session_id:int}/report", opt=REPORT_READERS, include_in_schema=False)
async def session_report(request: Request[Any, Any, Any], db: Db, session_id: FromPath[int]) -> Template:
    report = await tills.report(db, session_id)
    sales = await sales_service.list_sales(db, session_id=session_id, limit=500)
    return render(
        request,
        "cafe/report.html",
        title=f"{report.kind} report · {report.session.till_name}",
        report=report,
        sales=sales,
        money=format_pence,
    )


async def _sale_page(
    request: Request[Any, Any, Any],
    db: Db,
    settings: Any,
    identity: Any,
    sale_uuid: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    summary: str | None = None,
    status_code: int = 200,
) -> Template:
    sale = await sales_service.sale_detail(db, settings, sale_uuid)
    session = await tills.session_detail(db, sale.session_id)
    return render(
        request,
        "cafe/sale.html",
        status_code=status_code,
        title=f"Receipt {sale.number}",
        sale=sale,
        receipt=sale.receipt,
        session=session,
        supervisor=identity.role in SUPERVISORS,
        values=values or {},
        errors=errors or {},
        error_summary=summary,
        money=format_pence,
    )


@get("/till/sales/{sale_uuid:str}", opt=TILL_ROLES, include_in_schema=False)
async def sale_page(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller, sale_uuid: FromPath[str]
) -> Template:
    return await _sale_page(request, db, settings, identity, sale_uuid)


@post("/till/sales/{sale_uuid:str}/refund", opt=SUPERVISOR_ONLY, include_in_schema=False)
async def sale_refund(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller, sale_uuid: FromPath[str]
) -> Template | Redirect:
    form = await read_form(request)
    try:
        problems = Problems()
        lines = []
        for name, raw in form.items():
            if not name.startswith("refund-") or not raw.strip():
                continue
            line_id = name.removeprefix("refund-")
            if not raw.strip().isdigit() or len(raw.strip()) > 4:
                problems.add(name, "Enter how many to refund, as a whole number.")
                continue
            if int(raw) > 0 and line_id.isdigit():
                lines.append({"line_id": int(line_id), "quantity": int(raw)})
        if not form.get("reason"):
            problems.add("reason", "Say why the money is given back.")
        if form.get("method") not in ("cash", "card"):
            problems.add("method", "Choose cash or card.")
        if not lines and not problems.items:
            problems.add("lines", "Enter how many of at least one item to refund.")
        if problems.items:
            raise InvalidInput("Please correct the refund.", errors=problems.items)
        data = convert_input({"reason": form["reason"], "method": form["method"], "lines": lines}, RefundIn)
        await sales_service.refund(db, settings, identity, sale_uuid, data)
    except DomainError as exc:
        await db.rollback()
        errors, summary = form_errors(exc)
        errors = {_refund_field(k, form): v for k, v in errors.items()}
        return await _sale_page(
            request,
            db,
            settings,
            identity,
            sale_uuid,
            values=form,
            errors=errors,
            summary=summary,
            status_code=exc.status_code,
        )
    return redirect(request, f"/till/sales/{sale_uuid}", flash="The refund is recorded.")


def _refund_field(name: str, form: dict[str, str]) -> str:
    """``lines[0].quantity`` (the n-th line asked for) → the input it came from."""
    if name.startswith("lines[") and "]" in name:
        index = name[6 : name.index("]")]
        asked = [k for k, v in form.items() if k.startswith("refund-") and v.strip() not in ("", "0")]
        if index.isdigit() and int(index) < len(asked):
            return asked[int(index)]
    return name


@post("/till/sales/{sale_uuid:str}/void", opt=SUPERVISOR_ONLY, include_in_schema=False)
async def sale_void(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller, sale_uuid: FromPath[str]
) -> Template | Redirect:
    form = await read_form(request)
    try:
        if not form.get("void_reason"):
            raise InvalidInput("Say why the sale is cancelled.", field="void_reason")
        await sales_service.void(
            db, settings, identity, sale_uuid, convert_input({"reason": form["void_reason"]}, VoidIn)
        )
    except DomainError as exc:
        await db.rollback()
        errors, summary = form_errors(exc)
        errors = {("void_reason" if k == "reason" else k): v for k, v in errors.items()}
        return await _sale_page(
            request,
            db,
            settings,
            identity,
            sale_uuid,
            values=form,
            errors=errors,
            summary=summary,
            status_code=exc.status_code,
        )
    return redirect(request, f"/till/sales/{sale_uuid}", flash="The sale is cancelled (voided).")


ROUTES = [
    sessions_page,
    session_open,
    session_close_page,
    session_close,
    session_report,
    sale_page,
    sale_refund,
    sale_void,
]
