"""Rent and service-charge schedules: which periods a monthly billing run charges, and how much.

Pure (no database): the billing hook (:mod:`tenants.services.billing`) feeds it an agreement's
terms and a month, and posts what it answers.

The rules
---------
- **Periods.** Monthly periods run from the 1st to the month's last day. Quarterly periods run
  from one English quarter day (25 March, 24 June, 29 September, 25 December) to the day before
  the next. Both are billed **in advance**: a period is charged by the run for the month it
  starts in.
- **A start inside a period.** The period in which an agreement starts part-way is charged by the
  run for the month the agreement starts (its billing day is the start date, not the period's
  first day), pro rata.
- **Pro rata by actual days.** A part period (the agreement starts or ends inside it) is charged
  ``annual ÷ periods a year × days covered ÷ days in that period``, where "days in that period"
  is the *actual* number of calendar days from the period's first day to its last, inclusive
  (28 to 31 for a month; 89 to 92 for a quarter). So a full period always costs exactly a
  twelfth (or a quarter) of the year, whatever its length, and a day is worth a little more in
  a short period than a long one.
- **Rent-free.** Days inside the rent-free period (both ends inclusive) carry no rent; a period
  the rent-free period ends in is charged for the days after it, pro rata. The service charge is
  still payable during a rent-free period (the usual term: the hub's costs go on).
- **Discount.** A charity or community discount (``discount_bp``: 1000 = 10%) comes off the rent
  (not the service charge) and the charge line says so, with its reason.
- **Rent review.** The rent in force on a day is the latest review's new rent dated on or before
  it (reviews without a new rent yet — an index to apply by hand — change nothing); a review
  inside a period splits it: days before at the old rent, from the review date at the new.
- **Rounding.** Each charge is worked out exactly (a fraction of a penny) and rounded once,
  half-up, to whole pence (``hub.money``'s rule): the discount is applied before that rounding.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

from hub.money import format_pence

MONTHLY = "monthly"
QUARTERLY = "quarterly"
PERIODS_PER_YEAR = {MONTHLY: 12, QUARTERLY: 4}
# English quarter days (month, day).
QUARTER_DAYS = ((3, 25), (6, 24), (9, 29), (12, 25))

RENT = "rent"
SERVICE_CHARGE = "service_charge"
KIND_LABELS = {RENT: "Rent", SERVICE_CHARGE: "Service charge"}


@dataclass(frozen=True)
class Period:
    """One billing period, both days inclusive."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Review:
    review_date: date
    new_rent_pence_per_year: int | None


@dataclass(frozen=True)
class Terms:
    """What the schedule needs of an agreement (see :func:`terms_of`)."""

    reference: str
    start_date: date
    end_date: date | None  # the last day charged (inclusive); None: rolling, nothing ends it yet
    frequency: str
    rent_pence_per_year: int
    service_charge_pence_per_year: int = 0
    rent_free_start: date | None = None
    rent_free_end: date | None = None
    discount_bp: int = 0
    discount_reason: str | None = None
    reviews: tuple[Review, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PeriodCharge:
    """What one period of one kind costs: ``amount_pence`` (0 for a wholly rent-free period)."""

    kind: str
    period: Period
    covered_start: date
    covered_end: date
    bill_on: date  # the charge's supply date: the period's first day, or the agreement's start
    amount_pence: int
    description: str


def half_up(value: Fraction) -> int:
    """A non-negative exact amount to whole pence, 0.5p rounding up (hub.money's rule)."""
    if value < 0:
        return -half_up(-value)
    return (value.numerator * 2 + value.denominator) // (2 * value.denominator)


def _month_last(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _quarter_day_on_or_before(day: date) -> date:
    candidates = [date(day.year, m, d) for m, d in QUARTER_DAYS] + [date(day.year - 1, 12, 25)]
    return max(c for c in candidates if c <= day)


def _next_quarter_day(day: date) -> date:
    candidates = [date(day.year, m, d) for m, d in QUARTER_DAYS] + [date(day.year + 1, 3, 25)]
    return min(c for c in candidates if c > day)


def period_containing(frequency: str, day: date) -> Period:
    """The billing period of this frequency that ``day`` falls in."""
    if frequency == MONTHLY:
        return Period(day.replace(day=1), _month_last(day))
    if frequency == QUARTERLY:
        start = _quarter_day_on_or_before(day)
        return Period(start, _next_quarter_day(start) - timedelta(days=1))
    raise ValueError(f"unknown frequency {frequency!r}")


def periods_starting_in(frequency: str, first: date, last: date) -> list[Period]:
    """The periods of this frequency whose first day falls in ``first``..``last`` (inclusive)."""
    found: list[Period] = []
    period = period_containing(frequency, first)
    if period.start < first:
        period = period_containing(frequency, period.end + timedelta(days=1))
    while period.start <= last:
        found.append(period)
        period = period_containing(frequency, period.end + timedelta(days=1))
    return found


def billed_periods(terms: Terms, first: date, last: date) -> list[tuple[Period, date, date, date]]:
    """The agreement's periods the run for ``first``..``last`` (a calendar month) charges, each
    with (period, bill_on, covered_start, covered_end). A period is billed on its first day, or on
    the agreement's start if that falls inside it; the run charges the periods billed in its month."""
    candidates = periods_starting_in(terms.frequency, first, last)
    if first <= terms.start_date <= last:
        containing = period_containing(terms.frequency, terms.start_date)
        if containing not in candidates:
            candidates.insert(0, containing)
    found = []
    for period in candidates:
        covered_start = max(period.start, terms.start_date)
        covered_end = period.end if terms.end_date is None else min(period.end, terms.end_date)
        if covered_end < covered_start:
            continue
        bill_on = covered_start
        if first <= bill_on <= last:
            found.append((period, bill_on, covered_start, covered_end))
    return found


def rent_in_force(terms: Terms, day: date) -> int:
    """The yearly rent on ``day``: the latest applied review dated on or before it, else the base."""
    rent = terms.rent_pence_per_year
    latest: date | None = None
    for review in terms.reviews:
        if review.new_rent_pence_per_year is None or review.review_date > day:
            continue
        if latest is None or review.review_date >= latest:
            latest, rent = review.review_date, review.new_rent_pence_per_year
    return rent


def _rent_free(terms: Terms, day: date) -> bool:
    return (
        terms.rent_free_start is not None
        and terms.rent_free_end is not None
        and terms.rent_free_start <= day <= terms.rent_free_end
    )


def _days(start: date, end: date) -> Iterable[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _d(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _percent(bp: int) -> str:
    whole, part = divmod(bp, 100)
    return f"{whole}%" if part == 0 else f"{whole}.{part:02d}".rstrip("0") + "%"


def charge_for(
    terms: Terms, kind: str, period: Period, bill_on: date, start: date, end: date
) -> PeriodCharge:
    """What ``kind`` costs for the days ``start``..``end`` of ``period`` (see the module's rules)."""
    per_year = PERIODS_PER_YEAR[terms.frequency]
    notes: list[str] = []
    # Yearly amount → the days charged at each: exact sum of annual × days / (periods × period days).
    days_at: dict[int, int] = {}
    free_days = 0
    for day in _days(start, end):
        if kind == RENT:
            if _rent_free(terms, day):
                free_days += 1
                continue
            yearly = rent_in_force(terms, day)
        else:
            yearly = terms.service_charge_pence_per_year
        days_at[yearly] = days_at.get(yearly, 0) + 1
    exact = sum(
        (Fraction(yearly * days, per_year * period.days) for yearly, days in days_at.items()), Fraction(0)
    )
    covered = (end - start).days + 1
    if covered < period.days:
        notes.append(f"{covered} of {period.days} days, {_d(start)} to {_d(end)}")
    if kind == RENT:
        if free_days:
            notes.append(f"rent-free to {_d(min(end, terms.rent_free_end or end))}")
        changed = sorted(
            (
                r
                for r in terms.reviews
                if r.new_rent_pence_per_year is not None and start < r.review_date <= end
            ),
            key=lambda r: r.review_date,
        )
        base = rent_in_force(terms, start)
        if changed:
            notes.append(f"{format_pence(base)} a year")
        for review in changed:
            new_rent = format_pence(review.new_rent_pence_per_year or 0)
            notes.append(f"{new_rent} a year from {_d(review.review_date)} (rent review)")
        if terms.discount_bp and exact:
            reason = (terms.discount_reason or "").strip()
            exact = exact * (10_000 - terms.discount_bp) / 10_000
            notes.append(f"less {_percent(terms.discount_bp)} discount" + (f": {reason}" if reason else ""))
    amount = half_up(exact)
    description = f"{KIND_LABELS[kind]} {terms.reference}, {_d(period.start)} to {_d(period.end)}, in advance"
    if notes:
        description += " (" + "; ".join(notes) + ")"
    return PeriodCharge(
        kind=kind,
        period=period,
        covered_start=start,
        covered_end=end,
        bill_on=bill_on,
        amount_pence=amount,
        description=description[:300],
    )


def charges_for_month(
    terms: Terms, first: date, last: date, kinds: Sequence[str] = (RENT, SERVICE_CHARGE)
) -> list[PeriodCharge]:
    """Every charge the run for ``first``..``last`` posts for this agreement: one per billed period
    per kind (a kind with nothing a year is left out; a rent-free period answers 0 so that it is
    recorded as charged all the same)."""
    found: list[PeriodCharge] = []
    for period, bill_on, start, end in billed_periods(terms, first, last):
        for kind in kinds:
            if kind == SERVICE_CHARGE and terms.service_charge_pence_per_year == 0:
                continue
            if (
                kind == RENT
                and terms.rent_pence_per_year == 0
                and not any(r.new_rent_pence_per_year for r in terms.reviews)
            ):
                continue
            found.append(charge_for(terms, kind, period, bill_on, start, end))
    return found


def terms_of(agreement: object, reviews: Iterable[object] | None = None) -> Terms:
    """The schedule's view of an agreement (anything with the Agreement's attribute names; its
    ``reviews`` unless given). Charged up to its end date, or the day it ended if it ended."""
    ended_on: date | None = getattr(agreement, "ended_on", None)
    end_date: date | None = getattr(agreement, "end_date", None)
    last_day = ended_on if ended_on is not None else end_date
    rows = reviews if reviews is not None else getattr(agreement, "reviews", ())
    return Terms(
        reference=str(getattr(agreement, "reference", "")),
        start_date=getattr(agreement, "start_date"),  # noqa: B009
        end_date=last_day,
        frequency=str(getattr(agreement, "frequency")),  # noqa: B009
        rent_pence_per_year=int(getattr(agreement, "rent_pence_per_year")),  # noqa: B009
        service_charge_pence_per_year=int(getattr(agreement, "service_charge_pence_per_year", 0) or 0),
        rent_free_start=getattr(agreement, "rent_free_start", None),
        rent_free_end=getattr(agreement, "rent_free_end", None),
        discount_bp=int(getattr(agreement, "discount_bp", 0) or 0),
        discount_reason=getattr(agreement, "discount_reason", None),
        reviews=tuple(
            Review(getattr(r, "review_date"), getattr(r, "new_rent_pence_per_year"))  # noqa: B009
            for r in rows
        ),
    )
