"""The reports API under /api/v1/reports: trustees and admins read; nothing here writes.

Each takes the period as the pages do: ``period`` (``2026-10``, ``FY2026-Q3``, ``FY2026``, or
``custom`` with ``from`` and ``to``); none is the current financial year. Bad input is a 400
problem naming the field.
"""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import QueryParameter
from litestar.types import ControllerRouterHandler

from hub.auth import roles
from hub.deps import Db, RegistryDep, SettingsDep
from hub.models import Role
from hub.reports import services
from hub.reports.periods import parse

READ = roles(Role.ADMIN, Role.TRUSTEE)

PeriodKey = Annotated[str | None, QueryParameter(name="period", max_length=40)]
FromDay = Annotated[str | None, QueryParameter(name="from", max_length=40)]
ToDay = Annotated[str | None, QueryParameter(name="to", max_length=40)]


@get(
    "/api/v1/reports/income",
    opt=READ,
    tags=["reports"],
    summary="Income by stream, net and VAT, beside the year before",
)
async def income_report(
    db: Db,
    settings: SettingsDep,
    registry: RegistryDep,
    period: PeriodKey = None,
    from_day: FromDay = None,
    to_day: ToDay = None,
) -> services.Income:
    return await services.income(db, settings, registry, parse(settings, period, from_day, to_day))


@get("/api/v1/reports/debtors", opt=READ, tags=["reports"], summary="Aged debtors with their open invoices")
async def debtors_report(db: Db, settings: SettingsDep) -> services.Debtors:
    return await services.debtors(db, settings)


@get("/api/v1/reports/utilisation", opt=READ, tags=["reports"], summary="Room utilisation")
async def utilisation_report(
    db: Db,
    settings: SettingsDep,
    registry: RegistryDep,
    period: PeriodKey = None,
    from_day: FromDay = None,
    to_day: ToDay = None,
) -> services.UtilisationReport:
    return await services.utilisation(db, settings, registry, parse(settings, period, from_day, to_day))


@get("/api/v1/reports/impact", opt=READ, tags=["reports"], summary="Community impact and occupancy")
async def impact_report(
    db: Db,
    settings: SettingsDep,
    registry: RegistryDep,
    period: PeriodKey = None,
    from_day: FromDay = None,
    to_day: ToDay = None,
) -> services.ImpactReport:
    return await services.impact(db, settings, registry, parse(settings, period, from_day, to_day))


@get("/api/v1/reports/cafe", opt=READ, tags=["reports"], summary="Café trading")
async def cafe_report(
    db: Db,
    settings: SettingsDep,
    registry: RegistryDep,
    period: PeriodKey = None,
    from_day: FromDay = None,
    to_day: ToDay = None,
) -> services.CafeReport:
    return await services.cafe(db, settings, registry, parse(settings, period, from_day, to_day))


API_ROUTES: list[ControllerRouterHandler] = [
    income_report,
    debtors_report,
    utilisation_report,
    impact_report,
    cafe_report,
]
