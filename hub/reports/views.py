"""The trustees' report pages: a dashboard, a page per report (charts, each followed by the table
of its numbers), CSV of every table, and the board pack (print view and PDF).

Trustees change nothing: every route here is a GET. The board pack's commentary is typed into
the page and travels in the address (a GET form) to the print view and the PDF; it is never stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from hub.auth import roles
from hub.config import Settings
from hub.deps import Db, RegistryDep, SettingsDep
from hub.errors import DomainError, NotFound
from hub.models import Role
from hub.reports import cells
from hub.reports.controllers import FromDay, PeriodKey, ToDay
from hub.reports.csvout import table_csv
from hub.reports.pages import all_views, report_view
from hub.reports.pdf import board_pack_pdf
from hub.reports.periods import Period, choices, financial_year, fy_start_year, parse
from hub.reports.tables import REPORTS
from hub.web import NavItem, form_errors, render

READ = roles(Role.ADMIN, Role.TRUSTEE)

COMMENTARY = (
    ("summary", "Summary for the board"),
    ("income", "Income"),
    ("debtors", "Debtors"),
    ("rooms", "Rooms and community impact"),
    ("cafe", "Café and tenancies"),
)
COMMENT_LIMIT = 2000

Note = Annotated[str, QueryParameter(max_length=COMMENT_LIMIT)]


def _period(
    settings: Settings, key: str | None, from_day: str | None, to_day: str | None
) -> tuple[Period, dict[str, str], str | None, int]:
    try:
        return parse(settings, key, from_day, to_day), {}, None, 200
    except DomainError as exc:
        errors, summary = form_errors(exc)
        return (
            financial_year(settings, fy_start_year(settings, settings.today())),
            errors,
            summary,
            exc.status_code,
        )


def _picker(
    settings: Settings, period: Period, key: str | None, from_day: str | None, to_day: str | None
) -> dict[str, Any]:
    return {
        "period": period,
        "period_choices": choices(settings, settings.today()),
        "period_key": (key or period.key)[:40],
        "from_value": (from_day or (period.first.isoformat() if period.kind == "custom" else ""))[:40],
        "to_value": (to_day or (period.last.isoformat() if period.kind == "custom" else ""))[:40],
        "query": _query(period),
        "cell": cells.html,
        "numeric": cells.numeric,
        "reports": REPORTS,
    }


def _query(period: Period) -> str:
    if period.kind == "custom":
        return f"period=custom&from={period.first.isoformat()}&to={period.last.isoformat()}"
    return f"period={period.key}"


@get("/reports", opt=READ, include_in_schema=False)
async def dashboard(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    registry: RegistryDep,
    period_key: PeriodKey = None,
    from_day: FromDay = None,
    to_day: ToDay = None,
) -> Template:
    period, errors, summary, status = _period(settings, period_key, from_day, to_day)
    views = await all_views(db, settings, registry, period)
    return render(
        request,
        "reports/dashboard.html",
        status_code=status,
        title="Reports",
        errors=errors,
        error_summary=summary,
        views=views,
        **_picker(settings, period, period_key, from_day, to_day),
    )


@get("/reports/board-pack", opt=READ, include_in_schema=False)
async def board_pack(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    registry: RegistryDep,
    period_key: PeriodKey = None,
    from_day: FromDay = None,
    to_day: ToDay = None,
    note_summary: Note = "",
    note_income: Note = "",
    note_debtors: Note = "",
    note_rooms: Note = "",
    note_cafe: Note = "",
) -> Template:
    period, errors, summary, status = _period(settings, period_key, from_day, to_day)
    views = {v.slug: v for v in await all_views(db, settings, registry, period)}
    notes = {
        "summary": note_summary,
        "income": note_income,
        "debtors": note_debtors,
        "rooms": note_rooms,
        "cafe": note_cafe,
    }
    return render(
        request,
        "reports/board_pack.html",
        status_code=status,
        title=f"Board pack, {period.label}",
        errors=errors,
        error_summary=summary,
        views=views,
        notes=notes,
        commentary=COMMENTARY,
        made_on=settings.today(),
        **_picker(settings, period, period_key, from_day, to_day),
    )


@get("/reports/board-pack.pdf", opt=READ, include_in_schema=False)
async def board_pack_download(
    db: Db,
    settings: SettingsDep,
    registry: RegistryDep,
    period_key: PeriodKey = None,
    from_day: FromDay = None,
    to_day: ToDay = None,
    note_summary: Note = "",
    note_income: Note = "",
    note_debtors: Note = "",
    note_rooms: Note = "",
    note_cafe: Note = "",
) -> Response[bytes]:
    period = parse(settings, period_key, from_day, to_day)
    views = {v.slug: v for v in await all_views(db, settings, registry, period)}
    notes = {
        "summary": note_summary,
        "income": note_income,
        "debtors": note_debtors,
        "rooms": note_rooms,
        "cafe": note_cafe,
    }
    body = board_pack_pdf(
        settings, period, views, notes, [(key, label) for key, label in COMMENTARY], made_on=settings.today()
    )
    name = f"board-pack-{period.first.isoformat()}-to-{period.last.isoformat()}.pdf"
    return Response(
        body, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@get("/reports/{report:str}", opt=READ, include_in_schema=False)
async def report_page(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    registry: RegistryDep,
    report: FromPath[str],
    period_key: PeriodKey = None,
    from_day: FromDay = None,
    to_day: ToDay = None,
) -> Template:
    if report not in REPORTS:
        raise NotFound("There is no such report.")
    period, errors, summary, status = _period(settings, period_key, from_day, to_day)
    view = await report_view(db, settings, registry, report, period)
    return render(
        request,
        "reports/report.html",
        status_code=status,
        title=view.title,
        errors=errors,
        error_summary=summary,
        view=view,
        **_picker(settings, period, period_key, from_day, to_day),
    )


@get("/reports/{report:str}/{table_file:str}", opt=READ, include_in_schema=False)
async def report_csv(
    db: Db,
    settings: SettingsDep,
    registry: RegistryDep,
    report: FromPath[str],
    table_file: FromPath[str],
    period_key: PeriodKey = None,
    from_day: FromDay = None,
    to_day: ToDay = None,
) -> Response[bytes]:
    if report not in REPORTS or not table_file.endswith(".csv"):
        raise NotFound("There is no such table.")
    period = parse(settings, period_key, from_day, to_day)
    view = await report_view(db, settings, registry, report, period)
    table = view.table(table_file.removesuffix(".csv"))
    if table is None:
        raise NotFound("There is no such table.")
    stamp = (
        settings.today().isoformat()
        if report == "debtors"
        else f"{period.first.isoformat()}-to-{period.last.isoformat()}"
    )
    name = f"{report}-{table.key}-{stamp}.csv"
    return Response(
        table_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


ROUTES: list[ControllerRouterHandler] = [dashboard, board_pack, board_pack_download, report_page, report_csv]
NAV = [NavItem("Reports", "/reports", frozenset({Role.ADMIN, Role.TRUSTEE}), order=46)]
