"""Typed table cells: one table drives the page, its chart's numbers and its CSV alike.

A cell says what it is (money in pence, hours in seconds, a share in basis points, a date, a
count, words), so the page shows "£1,234.50" and the CSV "1234.50"; words are the only cells a
spreadsheet could mistake for a formula, and the CSV neutralises them (:mod:`hub.reports.csvout`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from hub.money import format_pence


@dataclass(frozen=True)
class Pounds:
    pence: int

    def html(self) -> str:
        return format_pence(self.pence)

    def csv(self) -> str:
        sign = "-" if self.pence < 0 else ""
        pounds, pennies = divmod(abs(self.pence), 100)
        return f"{sign}{pounds}.{pennies:02d}"


@dataclass(frozen=True)
class Hours:
    seconds: int

    def html(self) -> str:
        return f"{self.seconds / 3600:,.1f}"

    def csv(self) -> str:
        return f"{self.seconds / 3600:.2f}"


@dataclass(frozen=True)
class Share:
    """A share in basis points (2500 = 25.0%)."""

    bp: int

    def html(self) -> str:
        return f"{self.bp / 100:.1f}%"

    def csv(self) -> str:
        return f"{self.bp / 100:.2f}%"


@dataclass(frozen=True)
class Area:
    m2: Decimal

    def html(self) -> str:
        return f"{self.m2:,} m²"

    def csv(self) -> str:
        return str(self.m2)


def share_bp(part: int, whole: int) -> int:
    """part ÷ whole in basis points, rounded half-up (0 when there is no whole)."""
    if whole <= 0:
        return 0
    return (part * 20_000 + whole) // (2 * whole)


def html(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Pounds | Hours | Share | Area):
        return value.html()
    if isinstance(value, date):
        return f"{value.day} {value:%b %Y}"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def numeric(value: Any) -> bool:
    return isinstance(value, Pounds | Hours | Share | Area | int) and not isinstance(value, bool)


@dataclass
class Table:
    """A table of a report: ``key`` names its CSV, ``caption`` says what it holds."""

    key: str
    caption: str
    headers: list[str]
    rows: list[list[Any]]
    totals: list[Any] | None = None
    note: str = ""
    links: dict[int, str] = field(default_factory=dict)  # row index → a link for its first cell

    def numeric_columns(self) -> list[bool]:
        """Which columns hold figures (right-aligned), judged by the first row or the totals."""
        sample = self.rows[0] if self.rows else (self.totals or [])
        return [index > 0 and (numeric(value) or value is None) for index, value in enumerate(sample)] or [
            index > 0 for index in range(len(self.headers))
        ]
