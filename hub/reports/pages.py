"""What a report page, a CSV and the board pack show: the reports' figures made into views."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings
from hub.errors import NotFound
from hub.modules import Registry
from hub.reports import services
from hub.reports.periods import Period
from hub.reports.tables import (
    REPORTS,
    ReportView,
    cafe_view,
    debtors_view,
    impact_view,
    income_view,
    utilisation_view,
)


async def report_view(
    db: AsyncSession, settings: Settings, registry: Registry, slug: str, period: Period
) -> ReportView:
    if slug == "income":
        return income_view(await services.income(db, settings, registry, period))
    if slug == "debtors":
        return debtors_view(await services.debtors(db, settings))
    if slug == "utilisation":
        return utilisation_view(await services.utilisation(db, settings, registry, period))
    if slug == "impact":
        return impact_view(await services.impact(db, settings, registry, period), settings.today())
    if slug == "cafe":
        return cafe_view(await services.cafe(db, settings, registry, period))
    raise NotFound(f"There is no report called {slug[:40]!r}.")


async def all_views(
    db: AsyncSession, settings: Settings, registry: Registry, period: Period
) -> list[ReportView]:
    return [await report_view(db, settings, registry, slug, period) for slug in REPORTS]
