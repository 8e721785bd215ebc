"""Local wall-clock time in the building's zone, refusing times that a clock change makes
impossible (spring forward) or ambiguous (fall back) rather than guessing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from hub.errors import RuleViolation


def local_to_utc(local: datetime, zone: ZoneInfo, *, field: str = "start") -> datetime:
    """A naive local date-time to UTC. Raises RuleViolation naming the field if the local time
    does not exist (the hour the clocks skip) or happens twice (the hour they repeat)."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    early = local.replace(tzinfo=zone, fold=0)
    late = local.replace(tzinfo=zone, fold=1)
    when = local.strftime("%H:%M on %a %d %b %Y")
    if early.utcoffset() != late.utcoffset():
        # Either the gap (the time never shows on a clock) or the overlap (it shows twice).
        round_trip = early.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        if round_trip != local:
            raise RuleViolation(
                f"{when} does not exist in {zone.key}: the clocks go forward then. Choose another time.",
                field=field,
            )
        raise RuleViolation(
            f"{when} happens twice in {zone.key}: the clocks go back then. Choose another time.", field=field
        )
    return early.astimezone(UTC)


def instant(value: datetime, zone: ZoneInfo, *, field: str) -> datetime:
    """An API date-time: with an offset it is taken as given; without one it is building time."""
    if value.tzinfo is None:
        return local_to_utc(value, zone, field=field)
    return value.astimezone(UTC)


def combine_local(day: date, clock: time, zone: ZoneInfo, *, field: str = "start") -> datetime:
    return local_to_utc(datetime.combine(day, clock), zone, field=field)


def to_local(value: datetime, zone: ZoneInfo) -> datetime:
    return value.astimezone(zone)


def format_local(value: datetime, zone: ZoneInfo) -> str:
    """ISO 8601 with the offset in force then, e.g. 2026-03-31T10:00:00+01:00."""
    return value.astimezone(zone).isoformat(timespec="minutes")
