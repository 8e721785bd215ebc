"""The reports' figures, each a handful of grouped queries (never a loop over rows in Python).

Income comes from the income ledger alone (account ``income`` for net, ``vat`` for VAT, by
stream and entry date), so it agrees to the penny with the invoices, credit notes and till
sessions that wrote it — and with what ``hub.billing``'s ledger check proves. Aged debtors reuse
the money path's aged debt. Room utilisation, community impact, occupancy and café trading are
asked of whichever module provides them (:mod:`hub.reports`); when nobody does, the section says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.billing import rules
from hub.billing.models import Invoice, LedgerAccount, LedgerEntry
from hub.billing.schemas import AgedDebt
from hub.billing.services import debt
from hub.config import Settings
from hub.models import Organisation
from hub.modules import Registry
from hub.reports import CAFE_TRADING, IMPACT, OCCUPANCY, UTILISATION, Impact, Utilisation
from hub.reports.periods import Period, month_buckets, year_before

MISSING = {
    UTILISATION: "No module in this hub provides room utilisation (the rooms module is not installed).",
    IMPACT: "No module in this hub provides community impact figures (the rooms module is not installed).",
    OCCUPANCY: "Occupancy is not available: no module in this hub lets space to tenants yet.",
    CAFE_TRADING: "Café trading is not available: no module in this hub runs a café till yet.",
}


@dataclass
class PeriodOut:
    key: str
    kind: str
    label: str
    first: date
    last: date
    last_year_first: date
    last_year_last: date


def period_out(period: Period) -> PeriodOut:
    first, last = year_before(period)
    return PeriodOut(period.key, period.kind, period.label, period.first, period.last, first, last)


# --- income by stream ----------------------------------------------------------------------------


@dataclass
class Figures:
    net_pence: int = 0
    vat_pence: int = 0
    last_net_pence: int = 0
    last_vat_pence: int = 0

    @property
    def gross_pence(self) -> int:
        return self.net_pence + self.vat_pence

    @property
    def change_pence(self) -> int:
        return self.net_pence - self.last_net_pence


@dataclass
class StreamIncome:
    stream: str
    label: str
    heading: str
    net_pence: int
    vat_pence: int
    last_net_pence: int
    last_vat_pence: int


@dataclass
class SpanIncome:
    """One month or quarter: its net and VAT, and the same span a year before."""

    label: str
    first: date
    last: date
    net_pence: int
    vat_pence: int
    last_net_pence: int
    last_vat_pence: int
    by_stream: dict[str, int] = field(default_factory=dict)


@dataclass
class Income:
    period: PeriodOut
    streams: list[StreamIncome]
    months: list[SpanIncome]
    quarters: list[SpanIncome]
    net_pence: int
    vat_pence: int
    last_net_pence: int
    last_vat_pence: int


async def _ledger_by_month(
    db: AsyncSession, buckets: list[tuple[date, date, date]], first: date, last: date
) -> dict[tuple[str, str], list[int]]:
    """(stream, account) → the credit (income is a credit: negated) in each bucket. One query."""
    columns = [
        func.coalesce(
            func.sum(
                case(
                    (
                        and_(LedgerEntry.entry_date >= b_first, LedgerEntry.entry_date <= b_last),
                        LedgerEntry.amount_pence,
                    ),
                    else_=0,
                )
            ),
            0,
        )
        for _, b_first, b_last in buckets
    ]
    out: dict[tuple[str, str], list[int]] = {}
    for row in (
        await db.execute(
            select(LedgerEntry.stream, LedgerEntry.account, *columns)
            .where(
                LedgerEntry.account.in_([LedgerAccount.INCOME.value, LedgerAccount.VAT.value]),
                LedgerEntry.entry_date >= first,
                LedgerEntry.entry_date <= last,
            )
            .group_by(LedgerEntry.stream, LedgerEntry.account)
        )
    ).all():
        out[(str(row[0] or "other"), str(row[1]))] = [-int(value or 0) for value in row[2:]]
    return out


async def income(db: AsyncSession, settings: Settings, registry: Registry, period: Period) -> Income:
    """Income by stream, net and VAT, by month (and quarter, for a financial year), beside the same
    days a year before: two queries."""
    out = period_out(period)
    buckets = month_buckets(settings, period.first, period.last)
    last_buckets = month_buckets(settings, out.last_year_first, out.last_year_last)
    now = await _ledger_by_month(db, buckets, period.first, period.last)
    before = await _ledger_by_month(db, last_buckets, out.last_year_first, out.last_year_last)
    codes = list(registry.streams)
    for stream, _ in [*now, *before]:
        if stream not in codes:
            codes.append(stream)

    def cell(
        source: dict[tuple[str, str], list[int]],
        stream: str,
        account: LedgerAccount,
        index: int | None = None,
    ) -> int:
        values = source.get((stream, account.value))
        if not values:
            return 0
        if index is None:
            return sum(values)
        return values[index] if index < len(values) else 0

    streams = []
    for code in codes:
        declared = registry.streams.get(code)
        streams.append(
            StreamIncome(
                code,
                registry.stream_label(code),
                declared.heading if declared else "Other income",
                cell(now, code, LedgerAccount.INCOME),
                cell(now, code, LedgerAccount.VAT),
                cell(before, code, LedgerAccount.INCOME),
                cell(before, code, LedgerAccount.VAT),
            )
        )
    months = []
    for index, (month, b_first, b_last) in enumerate(buckets):
        months.append(
            SpanIncome(
                month.strftime("%b %Y"),
                b_first,
                b_last,
                sum(cell(now, c, LedgerAccount.INCOME, index) for c in codes),
                sum(cell(now, c, LedgerAccount.VAT, index) for c in codes),
                sum(cell(before, c, LedgerAccount.INCOME, index) for c in codes),
                sum(cell(before, c, LedgerAccount.VAT, index) for c in codes),
                {c: cell(now, c, LedgerAccount.INCOME, index) for c in codes},
            )
        )
    quarters = []
    if period.kind == "year":
        for number in range(4):
            chunk = months[3 * number : 3 * number + 3]
            quarters.append(
                SpanIncome(
                    f"Q{number + 1} ({chunk[0].first:%b}–{chunk[-1].last:%b %Y})",
                    chunk[0].first,
                    chunk[-1].last,
                    sum(m.net_pence for m in chunk),
                    sum(m.vat_pence for m in chunk),
                    sum(m.last_net_pence for m in chunk),
                    sum(m.last_vat_pence for m in chunk),
                    {c: sum(m.by_stream[c] for m in chunk) for c in codes},
                )
            )
    return Income(
        out,
        streams,
        months,
        quarters,
        sum(s.net_pence for s in streams),
        sum(s.vat_pence for s in streams),
        sum(s.last_net_pence for s in streams),
        sum(s.last_vat_pence for s in streams),
    )


# --- aged debtors --------------------------------------------------------------------------------


@dataclass
class DebtorInvoice:
    organisation_id: int
    invoice_id: int
    number: str
    issue_date: date
    due_date: date | None
    days: int
    band: str  # current | 30 | 60 | 90+
    owed_pence: int
    overdue: bool


@dataclass
class Debtors:
    aged: AgedDebt
    invoices: list[DebtorInvoice]


def age_band(days: int) -> str:
    return "90+" if days >= 90 else "60" if days >= 60 else "30" if days >= 30 else "current"


async def debtors(db: AsyncSession, settings: Settings) -> Debtors:
    """The money path's aged debt (as at today: what is owed is what is owed now), with the open
    invoices behind it."""
    aged = await debt.aged_debt(db, settings)
    on = aged.as_of
    invoices = [
        DebtorInvoice(
            int(org_id),
            int(invoice_id),
            str(number or ""),
            issue_date,
            due_date,
            (on - issue_date).days,
            age_band((on - issue_date).days),
            int(owed),
            rules.is_overdue(kind, status, due_date, int(owed), on),
        )
        for org_id, invoice_id, number, issue_date, due_date, owed, kind, status in (
            await db.execute(
                select(
                    Invoice.organisation_id,
                    Invoice.id,
                    Invoice.number_text,
                    Invoice.issue_date,
                    Invoice.due_date,
                    Invoice.gross_pence - Invoice.credited_pence - Invoice.paid_pence,
                    Invoice.kind,
                    Invoice.status,
                )
                .join(Organisation, Organisation.id == Invoice.organisation_id)
                .where(rules.open_clause(), Invoice.issue_date.is_not(None))
                .order_by(Invoice.issue_date, Invoice.id)
            )
        ).all()
        if int(owed) > 0 and issue_date is not None
    ]
    return Debtors(aged, invoices)


# --- what the modules provide --------------------------------------------------------------------


@dataclass
class Section:
    """A provided report: its figures, or why there are none."""

    available: bool
    message: str = ""


@dataclass
class UtilisationReport(Section):
    period: PeriodOut | None = None
    figures: Utilisation | None = None


@dataclass
class ImpactReport(Section):
    period: PeriodOut | None = None
    figures: Impact | None = None
    occupancy: list[OccupancyRow] = field(default_factory=list)
    occupancy_available: bool = False
    occupancy_message: str = ""


@dataclass
class OccupancyRow:
    month: date
    lettable_area_m2: Decimal
    let_area_m2: Decimal
    share_bp: int
    rent_roll_pence: int


@dataclass
class VatRate:
    vat_rate_bp: int
    net_pence: int
    vat_pence: int


@dataclass
class Product:
    name: str
    quantity: int
    gross_pence: int


@dataclass
class TillVariance:
    session_id: str
    till_name: str
    closed_on: date
    variance_pence: int
    reason: str


@dataclass
class CafeMonth:
    month: date
    gross_pence: int
    transactions: int


@dataclass
class CafeFigures:
    takings_gross_pence: int
    takings_net_pence: int
    takings_vat_pence: int
    transactions: int
    average_basket_pence: int
    vat_by_rate: list[VatRate]
    top_products: list[Product]
    pif_given_units: int
    pif_given_pence: int
    pif_redeemed_units: int
    pif_redeemed_pence: int
    variances: list[TillVariance]
    by_month: list[CafeMonth]


@dataclass
class CafeReport(Section):
    period: PeriodOut | None = None
    figures: CafeFigures | None = None


def _provider(registry: Registry, name: str) -> Any | None:
    found = registry.provided(name)
    return found[0] if found else None


async def utilisation(
    db: AsyncSession, settings: Settings, registry: Registry, period: Period
) -> UtilisationReport:
    provider = _provider(registry, UTILISATION)
    if provider is None:
        return UtilisationReport(False, MISSING[UTILISATION], period_out(period))
    return UtilisationReport(
        True, "", period_out(period), await provider(db, settings, period.first, period.last)
    )


async def occupancy(
    db: AsyncSession, settings: Settings, registry: Registry, period: Period
) -> tuple[bool, list[OccupancyRow]]:
    provider = _provider(registry, OCCUPANCY)
    if provider is None:
        return False, []
    rows = await provider(db, settings, period.first, period.last)
    return True, [
        OccupancyRow(
            r.month,
            Decimal(r.lettable_area_m2),
            Decimal(r.let_area_m2),
            int(r.share_bp),
            int(r.rent_roll_pence),
        )
        for r in rows
    ]


async def impact(db: AsyncSession, settings: Settings, registry: Registry, period: Period) -> ImpactReport:
    provider = _provider(registry, IMPACT)
    has_occupancy, occupancy_rows = await occupancy(db, settings, registry, period)
    report = ImpactReport(
        provider is not None,
        "" if provider is not None else MISSING[IMPACT],
        period_out(period),
        None,
        occupancy_rows,
        has_occupancy,
        "" if has_occupancy else MISSING[OCCUPANCY],
    )
    if provider is not None:
        report.figures = await provider(db, settings, period.first, period.last)
    return report


async def cafe(db: AsyncSession, settings: Settings, registry: Registry, period: Period) -> CafeReport:
    provider = _provider(registry, CAFE_TRADING)
    if provider is None:
        return CafeReport(False, MISSING[CAFE_TRADING], period_out(period))
    t = await provider(db, settings, period.first, period.last)
    figures = CafeFigures(
        int(t.takings_gross_pence),
        int(t.takings_net_pence),
        int(t.takings_vat_pence),
        int(t.transactions),
        int(t.average_basket_pence),
        [VatRate(int(r), int(n), int(v)) for r, n, v in t.vat_by_rate],
        [Product(str(n), int(q), int(g)) for n, q, g in t.top_products],
        int(t.pif_given_units),
        int(t.pif_given_pence),
        int(t.pif_redeemed_units),
        int(t.pif_redeemed_pence),
        [TillVariance(str(s), str(n), d, int(v), str(r)) for s, n, d, v, r in t.variances],
        [CafeMonth(m, int(g), int(c)) for m, g, c in t.by_month],
    )
    return CafeReport(True, "", period_out(period), figures)
