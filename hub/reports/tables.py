"""Each report as the page shows it: charts, each followed by the table of its numbers, and the
headline figures the board pack opens with. Plain functions of the reports' figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup

from hub.money import format_pence
from hub.reports import PART_LABELS, PARTS_OF_DAY
from hub.reports.cells import Area, Hours, Pounds, Share, Table, share_bp
from hub.reports.charts import Series, bar_chart
from hub.reports.services import CafeReport, Debtors, ImpactReport, Income, UtilisationReport
from hub.views.organisations import KIND_LABELS

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
BAND_LABELS = {
    "free": "Free of charge",
    "community": "Community / VCSE rate",
    "statutory": "Statutory rate",
    "commercial": "Commercial rate",
    "tenant": "Tenant rate",
}
AGE_LABELS = {"current": "Current", "30": "30–59 days", "60": "60–89 days", "90+": "90+ days"}


@dataclass
class Block:
    """A chart (or none) and the table of its numbers."""

    table: Table
    chart: Markup | None = None


@dataclass
class Headline:
    label: str
    value: str
    detail: str = ""


@dataclass
class ReportView:
    slug: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    message: str = ""  # why there are no figures (nobody provides them)
    headlines: list[Headline] = field(default_factory=list)

    def table(self, key: str) -> Table | None:
        return next((b.table for b in self.blocks if b.table.key == key), None)


def _pounds(pence: int) -> str:
    return format_pence(pence)


def _hours(seconds: int) -> str:
    return f"{seconds / 3600:,.1f} h"


def _pct(bp: int) -> str:
    return f"{bp / 100:.1f}%"


def _change(now: int, before: int) -> str:
    if before == 0:
        return "no income in the same period last year" if now else ""
    return f"{'up' if now >= before else 'down'} {abs(share_bp(now - before, before)) / 100:.1f}% on the same period last year ({format_pence(before)})"  # noqa: E501


# --- income --------------------------------------------------------------------------------------


def income_view(report: Income) -> ReportView:
    period = report.period
    this, before = period.label, "Same period a year before"
    streams = [
        s for s in report.streams if s.net_pence or s.vat_pence or s.last_net_pence or s.last_vat_pence
    ] or report.streams
    view = ReportView("income", "Income by stream")
    view.headlines = [
        Headline(
            "Income (net of VAT)", _pounds(report.net_pence), _change(report.net_pence, report.last_net_pence)
        ),
        Headline("VAT charged on it", _pounds(report.vat_pence)),
    ]
    view.blocks.append(
        Block(
            Table(
                "streams",
                f"Income by stream, {period.label}, beside {period.last_year_first.day} {period.last_year_first:%b %Y} to {period.last_year_last.day} {period.last_year_last:%b %Y}",  # noqa: E501
                [
                    "Stream",
                    "Heading in the accounts",
                    "Net",
                    "VAT",
                    "Gross",
                    "Net, year before",
                    "VAT, year before",
                    "Change in net",
                ],
                [
                    [
                        s.label,
                        s.heading,
                        Pounds(s.net_pence),
                        Pounds(s.vat_pence),
                        Pounds(s.net_pence + s.vat_pence),
                        Pounds(s.last_net_pence),
                        Pounds(s.last_vat_pence),
                        Pounds(s.net_pence - s.last_net_pence),
                    ]
                    for s in streams
                ],
                [
                    "Total",
                    "",
                    Pounds(report.net_pence),
                    Pounds(report.vat_pence),
                    Pounds(report.net_pence + report.vat_pence),
                    Pounds(report.last_net_pence),
                    Pounds(report.last_vat_pence),
                    Pounds(report.net_pence - report.last_net_pence),
                ],
                note="From the income ledger: invoices less credit notes by issue date, and café takings by session.",  # noqa: E501
            ),
            bar_chart(
                "chart-income-streams",
                "Net income by stream, this period and the year before",
                [s.label for s in streams],
                [
                    Series(this, [s.net_pence for s in streams]),
                    Series(before, [s.last_net_pence for s in streams]),
                ],
                _pounds,
            ),
        )
    )
    view.blocks.append(
        Block(
            Table(
                "months",
                f"Income by month, {period.label}",
                ["Month", "Net", "VAT", "Net, year before", "VAT, year before"],
                [
                    [
                        m.label,
                        Pounds(m.net_pence),
                        Pounds(m.vat_pence),
                        Pounds(m.last_net_pence),
                        Pounds(m.last_vat_pence),
                    ]
                    for m in report.months
                ],
                [
                    "Total",
                    Pounds(report.net_pence),
                    Pounds(report.vat_pence),
                    Pounds(report.last_net_pence),
                    Pounds(report.last_vat_pence),
                ],
            ),
            bar_chart(
                "chart-income-months",
                "Net income by month, this period and the year before",
                [m.label for m in report.months],
                [
                    Series(this, [m.net_pence for m in report.months]),
                    Series(before, [m.last_net_pence for m in report.months]),
                ],
                _pounds,
            ),
        )
    )
    if report.quarters:
        view.blocks.append(
            Block(
                Table(
                    "quarters",
                    f"Income by quarter, {period.label}",
                    ["Quarter", "Net", "VAT", "Net, year before", "VAT, year before"],
                    [
                        [
                            q.label,
                            Pounds(q.net_pence),
                            Pounds(q.vat_pence),
                            Pounds(q.last_net_pence),
                            Pounds(q.last_vat_pence),
                        ]
                        for q in report.quarters
                    ],
                    [
                        "Total",
                        Pounds(report.net_pence),
                        Pounds(report.vat_pence),
                        Pounds(report.last_net_pence),
                        Pounds(report.last_vat_pence),
                    ],
                )
            )
        )
    return view


# --- aged debtors --------------------------------------------------------------------------------


def debtors_view(report: Debtors) -> ReportView:
    aged, totals = report.aged, report.aged.totals
    view = ReportView("debtors", "Aged debtors")
    view.headlines = [
        Headline(
            "Owed to the hub",
            _pounds(totals.total_pence),
            f"{_pounds(totals.overdue_pence)} overdue; {_pounds(totals.days_90_plus_pence)} is 90 days old or more",  # noqa: E501
        ),
    ]
    bands = [
        ("Current", totals.current_pence),
        ("30–59 days", totals.days_30_pence),
        ("60–89 days", totals.days_60_pence),
        ("90+ days", totals.days_90_plus_pence),
    ]
    names = {row.organisation_id: row.organisation for row in aged.rows}
    view.blocks.append(
        Block(
            Table(
                "organisations",
                f"Aged debt by organisation at {aged.as_of.day} {aged.as_of:%B %Y}",
                [
                    "Organisation",
                    "Current",
                    "30–59 days",
                    "60–89 days",
                    "90+ days",
                    "Overdue",
                    "Credit",
                    "Balance",
                ],
                [
                    [
                        r.organisation,
                        Pounds(r.current_pence),
                        Pounds(r.days_30_pence),
                        Pounds(r.days_60_pence),
                        Pounds(r.days_90_plus_pence),
                        Pounds(r.overdue_pence),
                        Pounds(r.credit_pence),
                        Pounds(r.total_pence),
                    ]
                    for r in aged.rows
                ],
                [
                    "Total",
                    Pounds(totals.current_pence),
                    Pounds(totals.days_30_pence),
                    Pounds(totals.days_60_pence),
                    Pounds(totals.days_90_plus_pence),
                    Pounds(totals.overdue_pence),
                    Pounds(totals.credit_pence),
                    Pounds(totals.total_pence),
                ],
                note="Aged by invoice date: current is under 30 days old. Credit is money received and not yet used.",  # noqa: E501
                links={i: f"/organisations/{r.organisation_id}/statement" for i, r in enumerate(aged.rows)},
            ),
            bar_chart(
                "chart-debt-ages",
                "Money owed by age",
                [b for b, _ in bands],
                [Series("Owed", [v for _, v in bands])],
                _pounds,
            ),
        )
    )
    view.blocks.append(
        Block(
            Table(
                "invoices",
                "The open invoices behind it",
                ["Invoice", "Organisation", "Issued", "Due", "Days old", "Age", "Owed", "Overdue"],
                [
                    [
                        i.number,
                        names.get(i.organisation_id, ""),
                        i.issue_date,
                        i.due_date,
                        i.days,
                        AGE_LABELS[i.band],
                        Pounds(i.owed_pence),
                        i.overdue,
                    ]
                    for i in report.invoices
                ],
                links={n: f"/invoices/{i.invoice_id}" for n, i in enumerate(report.invoices)},
            )
        )
    )
    return view


# --- utilisation ---------------------------------------------------------------------------------


def utilisation_view(report: UtilisationReport) -> ReportView:
    view = ReportView("utilisation", "Room utilisation", message=report.message)
    figures = report.figures
    if figures is None:
        return view
    per_room: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for r in figures.rooms:
        acc = per_room.setdefault(r.room_id, [0, 0])
        acc[0] += r.booked_seconds
        acc[1] += r.open_seconds
        names[r.room_id] = r.room
    booked = sum(a[0] for a in per_room.values())
    open_ = sum(a[1] for a in per_room.values())
    view.headlines = [
        Headline(
            "Rooms in use",
            _pct(share_bp(booked, open_)),
            f"{_hours(booked)} booked of {_hours(open_)} open, across {len(per_room)} rooms",
        ),
    ]
    room_ids = list(per_room)
    view.blocks.append(
        Block(
            Table(
                "rooms",
                f"Utilisation by room, {report.period.label if report.period else ''}",
                ["Room", "Booked hours", "Open hours", "Utilisation"],
                [
                    [names[i], Hours(per_room[i][0]), Hours(per_room[i][1]), Share(share_bp(*per_room[i]))]
                    for i in room_ids
                ],
                ["All rooms", Hours(booked), Hours(open_), Share(share_bp(booked, open_))],
                note="A combined room's booking counts in each of its parts. Open hours are opening hours less closures and bank holidays.",  # noqa: E501
            ),
            bar_chart(
                "chart-utilisation-rooms",
                "Share of open hours booked, by room",
                [names[i] for i in room_ids],
                [Series("Utilisation", [share_bp(*per_room[i]) for i in room_ids])],
                _pct,
                max_value=10_000,
            ),
        )
    )
    view.blocks.append(
        Block(
            Table(
                "room-months",
                "Utilisation by room and month",
                ["Room", "Month", "Booked hours", "Open hours", "Utilisation"],
                [
                    [
                        r.room,
                        r.month.strftime("%b %Y"),
                        Hours(r.booked_seconds),
                        Hours(r.open_seconds),
                        Share(share_bp(r.booked_seconds, r.open_seconds)),
                    ]
                    for r in figures.rooms
                ],
            )
        )
    )
    by_part: dict[str, list[int]] = {p: [0, 0] for p in PARTS_OF_DAY}
    cells: dict[tuple[int, str], int] = {}
    day_totals: dict[int, list[int]] = {d: [0, 0] for d in range(7)}
    for w in figures.by_weekday_part:
        by_part[w.part][0] += w.booked_seconds
        by_part[w.part][1] += w.open_seconds
        cells[(w.weekday, w.part)] = share_bp(w.booked_seconds, w.open_seconds)
        day_totals[w.weekday][0] += w.booked_seconds
        day_totals[w.weekday][1] += w.open_seconds
    view.blocks.append(
        Block(
            Table(
                "weekdays",
                "Utilisation by weekday and part of the day",
                [
                    "Weekday",
                    "Morning (before 12:00)",
                    "Afternoon (12:00–17:00)",
                    "Evening (from 17:00)",
                    "Booked hours",
                    "Open hours",
                    "All day",
                ],
                [
                    [
                        WEEKDAYS[d],
                        *(Share(cells.get((d, p), 0)) for p in PARTS_OF_DAY),
                        Hours(day_totals[d][0]),
                        Hours(day_totals[d][1]),
                        Share(share_bp(*day_totals[d])),
                    ]
                    for d in range(7)
                ],
                [
                    "All week",
                    *(Share(share_bp(*by_part[p])) for p in PARTS_OF_DAY),
                    Hours(booked),
                    Hours(open_),
                    Share(share_bp(booked, open_)),
                ],
            ),
            bar_chart(
                "chart-utilisation-parts",
                "Share of open hours booked, by part of the day",
                [PART_LABELS[p] for p in PARTS_OF_DAY],
                [Series("Utilisation", [share_bp(*by_part[p]) for p in PARTS_OF_DAY])],
                _pct,
                max_value=10_000,
            ),
        )
    )
    view.blocks.append(
        Block(
            Table(
                "no-shows",
                "No-shows and late cancellations",
                ["What happened", "Bookings", "Hours"],
                [
                    ["No-show (booked, nobody came)", figures.no_shows, Hours(figures.no_show_seconds)],
                    [
                        f"Cancelled less than {figures.late_cancellation_hours} hours before the start",
                        figures.late_cancellations,
                        Hours(figures.late_cancellation_seconds),
                    ],
                ],
            )
        )
    )
    return view


# --- community impact ----------------------------------------------------------------------------


def impact_view(report: ImpactReport, today: date) -> ReportView:
    view = ReportView("impact", "Community impact", message=report.message)
    f = report.figures
    if f is not None:
        org_total = sum(k.organisations for k in f.organisations)
        view.headlines = [
            Headline(
                "Sessions held",
                f"{f.sessions_held:,}",
                f"{_hours(f.hours_seconds)} hosted for {org_total:,} organisations",
            ),
            Headline(
                "Attendances recorded",
                f"{f.attendances:,}",
                f"at check-in, over {f.checked_in_sessions:,} sessions",
            ),
            Headline("Discount given", _pounds(f.discount_pence), "against the commercial hourly rate"),
        ]
        view.blocks.append(
            Block(
                Table(
                    "categories",
                    f"Hours hosted by activity, {report.period.label if report.period else ''}",
                    ["Activity", "Sessions", "Hours", "Attendances at check-in"],
                    [[c.label, c.sessions, Hours(c.seconds), c.attendance] for c in f.categories],
                    ["All activities", f.sessions_held, Hours(f.hours_seconds), f.attendances],
                    note="Sessions held: confirmed bookings that began in the period, no-shows left out.",
                ),
                bar_chart(
                    "chart-impact-categories",
                    "Hours hosted by activity",
                    [c.label for c in f.categories],
                    [Series("Hours", [c.seconds for c in f.categories])],
                    _hours,
                ),
            )
        )
        view.blocks.append(
            Block(
                Table(
                    "organisations",
                    "Organisations using the building, by kind",
                    ["Kind of organisation", "Organisations"],
                    [[KIND_LABELS.get(k.kind, k.kind), k.organisations] for k in f.organisations],
                    ["All kinds", org_total],
                )
            )
        )
        total_seconds = sum(b.seconds for b in f.bands)
        view.blocks.append(
            Block(
                Table(
                    "rates",
                    "Hours by rate charged",
                    ["Rate", "Hours", "Share of hours", "Charged (net)"],
                    [
                        [
                            BAND_LABELS.get(b.band, b.band),
                            Hours(b.seconds),
                            Share(share_bp(b.seconds, total_seconds)),
                            Pounds(b.net_pence),
                        ]
                        for b in f.bands
                    ],
                    [
                        "All rates",
                        Hours(total_seconds),
                        Share(share_bp(total_seconds, total_seconds)),
                        Pounds(sum(b.net_pence for b in f.bands)),
                    ],
                ),
                bar_chart(
                    "chart-impact-rates",
                    "Share of hours by rate charged",
                    [BAND_LABELS.get(b.band, b.band) for b in f.bands],
                    [Series("Share of hours", [share_bp(b.seconds, total_seconds) for b in f.bands])],
                    _pct,
                    max_value=10_000,
                ),
            )
        )
        view.blocks.append(
            Block(
                Table(
                    "discount",
                    "The value of the discount given",
                    ["Measure", "Amount"],
                    [
                        [
                            "Hours not at the commercial rate, priced at the room's commercial hourly rate",
                            Pounds(f.commercial_value_pence),
                        ],
                        ["What was charged for those hours (net)", Pounds(f.charged_pence)],
                        ["Discount given", Pounds(f.discount_pence)],
                    ],
                )
            )
        )
    if report.occupancy_available:
        rows = report.occupancy
        view.blocks.append(
            Block(
                Table(
                    "occupancy",
                    "Occupancy of lettable space, by month",
                    ["Month", "Lettable area", "Let", "Occupancy", "Rent roll (a year)"],
                    [
                        [
                            o.month.strftime("%b %Y"),
                            Area(o.lettable_area_m2),
                            Area(o.let_area_m2),
                            Share(o.share_bp),
                            Pounds(o.rent_roll_pence),
                        ]
                        for o in rows
                    ],
                ),
                bar_chart(
                    "chart-occupancy",
                    "Share of lettable space let, by month",
                    [o.month.strftime("%b %Y") for o in rows],
                    [Series("Occupancy", [o.share_bp for o in rows])],
                    _pct,
                    max_value=10_000,
                ),
            )
        )
        shown = [o for o in rows if o.month <= today] or rows
        if shown:
            latest = shown[-1]
            if latest.lettable_area_m2 > 0:
                view.headlines.append(
                    Headline("Lettable space let", _pct(latest.share_bp), f"on 1 {latest.month:%B %Y}")
                )
            else:
                view.headlines.append(
                    Headline("Lettable space let", "None recorded", "no lettable units are set up")
                )
    return view


# --- café ----------------------------------------------------------------------------------------


def cafe_view(report: CafeReport) -> ReportView:
    view = ReportView("cafe", "Café trading", message=report.message)
    f = report.figures
    if f is None:
        return view
    view.headlines = [
        Headline(
            "Café takings",
            _pounds(f.takings_gross_pence),
            f"{f.transactions:,} sales, average {_pounds(f.average_basket_pence)}",
        )
    ]
    view.blocks.append(
        Block(
            Table(
                "summary",
                f"Café trading, {report.period.label if report.period else ''}",
                ["Measure", "Amount"],
                [
                    ["Takings (gross)", Pounds(f.takings_gross_pence)],
                    ["Takings (net of VAT)", Pounds(f.takings_net_pence)],
                    ["VAT", Pounds(f.takings_vat_pence)],
                    ["Sales", f.transactions],
                    ["Average sale", Pounds(f.average_basket_pence)],
                    ["Pay-it-forward given (items)", f.pif_given_units],
                    ["Pay-it-forward given (value)", Pounds(f.pif_given_pence)],
                    ["Pay-it-forward redeemed (items)", f.pif_redeemed_units],
                    ["Pay-it-forward redeemed (value)", Pounds(f.pif_redeemed_pence)],
                ],
            )
        )
    )
    view.blocks.append(
        Block(
            Table(
                "months",
                "Café takings by month",
                ["Month", "Takings (gross)", "Sales"],
                [[m.month.strftime("%b %Y"), Pounds(m.gross_pence), m.transactions] for m in f.by_month],
            ),
            bar_chart(
                "chart-cafe-months",
                "Café takings by month",
                [m.month.strftime("%b %Y") for m in f.by_month],
                [Series("Takings", [m.gross_pence for m in f.by_month])],
                _pounds,
            ),
        )
    )
    view.blocks.append(
        Block(
            Table(
                "products",
                "Top products",
                ["Product", "Sold", "Takings (gross)"],
                [[p.name, p.quantity, Pounds(p.gross_pence)] for p in f.top_products],
            )
        )
    )
    view.blocks.append(
        Block(
            Table(
                "vat",
                "VAT summary",
                ["VAT rate", "Net", "VAT"],
                [
                    [f"{v.vat_rate_bp / 100:g}%", Pounds(v.net_pence), Pounds(v.vat_pence)]
                    for v in f.vat_by_rate
                ],
            )
        )
    )
    view.blocks.append(
        Block(
            Table(
                "variances",
                "Till variances at cash-up",
                ["Session", "Till", "Closed on", "Variance", "Reason"],
                [
                    [v.session_id, v.till_name, v.closed_on, Pounds(v.variance_pence), v.reason]
                    for v in f.variances
                ],
            )
        )
    )
    return view


REPORTS: dict[str, str] = {
    "income": "Income by stream",
    "debtors": "Aged debtors",
    "utilisation": "Room utilisation",
    "impact": "Community impact",
    "cafe": "Café trading",
}

__all__ = [
    "REPORTS",
    "Any",
    "Block",
    "Headline",
    "ReportView",
    "cafe_view",
    "debtors_view",
    "impact_view",
    "income_view",
    "utilisation_view",
]
