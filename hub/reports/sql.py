"""Portable SQL for reports: instants as whole seconds since 1970, so SQLite and PostgreSQL do the
same integer arithmetic (overlaps, local time of day, weekday) and the report groups in the
database, not in Python loops over rows.

The building's zone is not known to SQLite, so local time is UTC plus the offset in force, which
:func:`local_seconds` picks with a CASE over the period's clock changes (found here, in Python).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, case, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

DAY = 86_400


def epoch(column: Any, dialect: str) -> ColumnElement[int]:
    """An instant column as whole seconds since 1970-01-01 UTC."""
    if dialect == "sqlite":
        # Stored as naive UTC text; strftime('%s') reads it as UTC.
        return cast(func.strftime("%s", column), BigInteger)
    return cast(func.extract("epoch", column), BigInteger)


def seconds(value: datetime) -> int:
    return int(value.astimezone(UTC).timestamp())


def least(a: Any, b: Any) -> ColumnElement[int]:
    return case((a < b, a), else_=b)


def greatest(a: Any, b: Any) -> ColumnElement[int]:
    return case((a > b, a), else_=b)


def overlap(start: Any, end: Any, lo: int, hi: int) -> ColumnElement[int]:
    """Seconds of [start, end) inside [lo, hi) (0 when they do not meet)."""
    lo_l, hi_l = literal(lo, BigInteger), literal(hi, BigInteger)
    return case(
        ((start < hi_l) & (end > lo_l), least(end, hi_l) - greatest(start, lo_l)),
        else_=literal(0, BigInteger),
    )


def offset_changes(zone: ZoneInfo, lo: datetime, hi: datetime) -> list[tuple[int, int]]:
    """(from instant in epoch seconds, UTC offset in seconds) for each stretch of constant offset
    between ``lo`` and ``hi``: found a day at a time, then to the half hour within the day where
    the offset changes (zones change on the hour or the half hour)."""

    def offset_at(instant: datetime) -> int:
        off = instant.astimezone(zone).utcoffset()
        return int(off.total_seconds()) if off is not None else 0

    current = lo.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    changes: list[tuple[int, int]] = [(seconds(current), offset_at(current))]
    day, half = timedelta(days=1), timedelta(minutes=30)
    while current <= hi:
        following = current + day
        if offset_at(following) != changes[-1][1]:
            step = current
            while step < following:
                step += half
                offset = offset_at(step)
                if offset != changes[-1][1]:
                    changes.append((seconds(step), offset))
                    break
        current = following
    return changes


def local_seconds(instant: Any, changes: list[tuple[int, int]]) -> Any:
    """Local wall-clock seconds since 1970 for an epoch-seconds expression."""
    if len(changes) == 1:
        return instant + literal(changes[0][1], BigInteger)
    whens = [
        (instant < literal(changes[i + 1][0], BigInteger), literal(changes[i][1], BigInteger))
        for i in range(len(changes) - 1)
    ]
    return instant + case(*whens, else_=literal(changes[-1][1], BigInteger))


def weekday(local: Any) -> Any:
    """0 = Monday, from local seconds (1 January 1970 was a Thursday)."""
    return cast((local // literal(DAY, BigInteger) + 3) % 7, Integer)


def second_of_day(local: Any) -> Any:
    return local % literal(DAY, BigInteger)
