"""The rent and service-charge schedule (pure): which periods a month's run charges, and how much.

Expected figures are worked by hand from the rule (annual ÷ periods a year × days covered ÷
actual days in the period, rounded once half-up), never read back from the code."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from tenants.services.schedule import (
    MONTHLY,
    QUARTERLY,
    RENT,
    SERVICE_CHARGE,
    Period,
    Review,
    Terms,
    charges_for_month,
    half_up,
    period_containing,
    periods_starting_in,
)


def month(year: int, number: int) -> tuple[date, date]:
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def terms(**fields: object) -> Terms:
    values: dict[str, object] = {
        "reference": "AGR-0001",
        "start_date": date(2027, 1, 1),
        "end_date": None,
        "frequency": MONTHLY,
        "rent_pence_per_year": 600_000,
    }
    values.update(fields)
    return Terms(**values)  # type: ignore[arg-type]


def run(t: Terms, year: int, number: int) -> dict[str, list[tuple[date, int]]]:
    """kind -> [(period start, amount)] for the run of that month."""
    found: dict[str, list[tuple[date, int]]] = {}
    for charge in charges_for_month(t, *month(year, number)):
        found.setdefault(charge.kind, []).append((charge.period.start, charge.amount_pence))
    return found


# -- periods ----------------------------------------------------------------------------------


def test_quarter_days_are_the_english_ones() -> None:
    assert period_containing(QUARTERLY, date(2027, 1, 1)) == Period(date(2026, 12, 25), date(2027, 3, 24))
    assert period_containing(QUARTERLY, date(2027, 3, 25)) == Period(date(2027, 3, 25), date(2027, 6, 23))
    assert period_containing(QUARTERLY, date(2027, 6, 24)) == Period(date(2027, 6, 24), date(2027, 9, 28))
    assert period_containing(QUARTERLY, date(2027, 9, 28)) == Period(date(2027, 6, 24), date(2027, 9, 28))
    assert period_containing(QUARTERLY, date(2027, 12, 24)) == Period(date(2027, 9, 29), date(2027, 12, 24))
    assert period_containing(QUARTERLY, date(2027, 12, 25)) == Period(date(2027, 12, 25), date(2028, 3, 24))


def test_periods_start_in_their_month_only() -> None:
    assert periods_starting_in(QUARTERLY, *month(2027, 1)) == []
    assert periods_starting_in(QUARTERLY, *month(2027, 6)) == [Period(date(2027, 6, 24), date(2027, 9, 28))]
    assert periods_starting_in(MONTHLY, *month(2028, 2)) == [Period(date(2028, 2, 1), date(2028, 2, 29))]


def test_half_up_rounds_half_a_penny_up() -> None:
    assert half_up(Fraction(3, 2)) == 2
    assert half_up(Fraction(5, 2)) == 3
    assert half_up(Fraction(149, 100)) == 1
    assert half_up(Fraction(0)) == 0


# -- amounts ----------------------------------------------------------------------------------


def test_full_month_is_a_twelfth_whatever_its_length() -> None:
    t = terms(rent_pence_per_year=600_000, service_charge_pence_per_year=120_000)
    assert run(t, 2027, 2) == {
        RENT: [(date(2027, 2, 1), 50_000)],
        SERVICE_CHARGE: [(date(2027, 2, 1), 10_000)],
    }
    assert run(t, 2027, 3) == {
        RENT: [(date(2027, 3, 1), 50_000)],
        SERVICE_CHARGE: [(date(2027, 3, 1), 10_000)],
    }


def test_start_mid_quarter_is_billed_in_the_start_month_pro_rata() -> None:
    # Quarter 25 Dec 2026 – 24 Mar 2027 has 7 + 31 + 28 + 24 = 90 days; from 10 Feb: 19 + 24 = 43.
    t = terms(frequency=QUARTERLY, start_date=date(2027, 2, 10), rent_pence_per_year=1_200_000)
    assert run(t, 2026, 12) == {}
    assert run(t, 2027, 1) == {}
    # 1,200,000 / 4 × 43 / 90 = 143,333.33…
    assert run(t, 2027, 2) == {RENT: [(date(2026, 12, 25), 143_333)]}
    (charge,) = charges_for_month(t, *month(2027, 2))
    assert charge.bill_on == date(2027, 2, 10)
    assert "43 of 90 days" in charge.description
    assert run(t, 2027, 3) == {RENT: [(date(2027, 3, 25), 300_000)]}


def test_start_in_a_quarter_day_month_before_the_quarter_day_bills_both_periods() -> None:
    # Starts 10 Dec: the part of the Sep quarter (10–24 Dec: 15 of 87 days) and the whole Dec quarter.
    t = terms(frequency=QUARTERLY, start_date=date(2026, 12, 10), rent_pence_per_year=1_200_000)
    # 29 Sep – 24 Dec 2026 = 2 + 31 + 30 + 24 = 87 days; 300,000 × 15 / 87 = 51,724.14
    assert run(t, 2026, 12) == {RENT: [(date(2026, 9, 29), 51_724), (date(2026, 12, 25), 300_000)]}


def test_rent_free_period_ending_mid_month_charges_the_rest() -> None:
    t = terms(
        rent_pence_per_year=600_000,
        service_charge_pence_per_year=120_000,
        rent_free_start=date(2027, 1, 1),
        rent_free_end=date(2027, 2, 14),
    )
    # January wholly rent-free: recorded as 0; the service charge is still payable.
    assert run(t, 2027, 1) == {RENT: [(date(2027, 1, 1), 0)], SERVICE_CHARGE: [(date(2027, 1, 1), 10_000)]}
    # February: 14 of 28 days charged: 50,000 × 14 / 28.
    assert run(t, 2027, 2) == {
        RENT: [(date(2027, 2, 1), 25_000)],
        SERVICE_CHARGE: [(date(2027, 2, 1), 10_000)],
    }
    (rent, _) = charges_for_month(t, *month(2027, 2))
    assert "rent-free to 14 Feb 2027" in rent.description


def test_rent_free_ending_mid_quarter() -> None:
    # Quarter 25 Mar – 23 Jun 2027 = 7 + 30 + 31 + 23 = 91 days; rent-free to 30 Apr: 54 days charged.
    t = terms(
        frequency=QUARTERLY,
        start_date=date(2027, 3, 25),
        rent_pence_per_year=1_000_000,
        rent_free_start=date(2027, 3, 25),
        rent_free_end=date(2027, 4, 30),
    )
    # 250,000 × 54 / 91 = 148,351.65 → 148,352
    assert run(t, 2027, 3) == {RENT: [(date(2027, 3, 25), 148_352)]}


def test_end_mid_month_is_pro_rata() -> None:
    t = terms(start_date=date(2026, 1, 1), end_date=date(2027, 3, 10), rent_pence_per_year=600_000)
    # 50,000 × 10 / 31 = 16,129.03
    assert run(t, 2027, 3) == {RENT: [(date(2027, 3, 1), 16_129)]}
    assert run(t, 2027, 4) == {}


def test_end_on_a_period_boundary_charges_nothing_after() -> None:
    t = terms(start_date=date(2026, 1, 1), end_date=date(2027, 3, 31))
    assert run(t, 2027, 3) == {RENT: [(date(2027, 3, 1), 50_000)]}
    assert run(t, 2027, 4) == {}


def test_rent_review_mid_period_splits_it() -> None:
    # 25 Dec – 31 Jan: 38 days at £12,000; 1 Feb – 24 Mar: 52 days at £13,200; of 90.
    t = terms(
        frequency=QUARTERLY,
        start_date=date(2026, 12, 25),
        rent_pence_per_year=1_200_000,
        reviews=(Review(date(2027, 2, 1), 1_320_000), Review(date(2027, 6, 24), None)),
    )
    # (1,200,000 × 38 + 1,320,000 × 52) / 360 = 317,333.33
    assert run(t, 2026, 12) == {RENT: [(date(2026, 12, 25), 317_333)]}
    (charge,) = charges_for_month(t, *month(2026, 12))
    assert "£13,200.00 a year from 1 Feb 2027 (rent review)" in charge.description
    # The next quarter at the new rent; the index review with no figure yet changes nothing.
    assert run(t, 2027, 3) == {RENT: [(date(2027, 3, 25), 330_000)]}
    assert run(t, 2027, 6) == {RENT: [(date(2027, 6, 24), 330_000)]}


def test_discount_comes_off_the_rent_and_says_why() -> None:
    t = terms(
        rent_pence_per_year=600_000,
        service_charge_pence_per_year=120_000,
        discount_bp=1_250,
        discount_reason="Registered charity",
    )
    # 50,000 less 12.5% = 43,750; the service charge is not discounted.
    assert run(t, 2027, 1) == {
        RENT: [(date(2027, 1, 1), 43_750)],
        SERVICE_CHARGE: [(date(2027, 1, 1), 10_000)],
    }
    rent = charges_for_month(t, *month(2027, 1))[0]
    assert "less 12.5% discount: Registered charity" in rent.description


def test_rounding_is_once_half_up() -> None:
    # £0.18 a year monthly: 1.5p → 2p.
    assert run(terms(rent_pence_per_year=18), 2027, 1) == {RENT: [(date(2027, 1, 1), 2)]}


def test_rolling_agreement_goes_on_until_it_ends() -> None:
    t = terms(start_date=date(2020, 1, 1))
    assert run(t, 2040, 7) == {RENT: [(date(2040, 7, 1), 50_000)]}


# -- properties ---------------------------------------------------------------------------------

days_2026_2030 = st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31))


def months_between(first: date, last: date) -> list[tuple[int, int]]:
    found = []
    year, number = first.year, first.month
    while (year, number) <= (last.year, last.month):
        found.append((year, number))
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return found


@settings(max_examples=150, deadline=None)
@given(
    start=days_2026_2030,
    length=st.integers(min_value=0, max_value=900),
    frequency=st.sampled_from([MONTHLY, QUARTERLY]),
)
def test_every_day_of_the_term_is_charged_exactly_once_by_the_runs(
    start: date, length: int, frequency: str
) -> None:
    end = start + timedelta(days=length)
    t = terms(start_date=start, end_date=end, frequency=frequency)
    covered: list[date] = []
    seen_periods: set[date] = set()
    for year, number in months_between(start - timedelta(days=120), end + timedelta(days=120)):
        first, last = month(year, number)
        for charge in charges_for_month(t, first, last):
            assert first <= charge.bill_on <= last
            assert charge.period.start not in seen_periods
            seen_periods.add(charge.period.start)
            assert charge.period.start <= charge.covered_start <= charge.covered_end <= charge.period.end
            covered.extend(
                charge.covered_start + timedelta(days=i)
                for i in range((charge.covered_end - charge.covered_start).days + 1)
            )
    assert covered == [start + timedelta(days=i) for i in range(length + 1)]


@settings(max_examples=100, deadline=None)
@given(
    year=st.integers(min_value=2026, max_value=2035),
    annual=st.integers(min_value=0, max_value=50_000_000),
    frequency=st.sampled_from([MONTHLY, QUARTERLY]),
)
def test_a_whole_year_of_whole_periods_is_the_annual_rent_each_rounded_once(
    year: int, annual: int, frequency: str
) -> None:
    start = date(year, 1, 1) if frequency == MONTHLY else date(year, 3, 25)
    end = date(year, 12, 31) if frequency == MONTHLY else date(year + 1, 3, 24)
    t = terms(start_date=start, end_date=end, frequency=frequency, rent_pence_per_year=annual)
    per_year = 12 if frequency == MONTHLY else 4
    amounts = [
        c.amount_pence for y, m in months_between(start, end) for c in charges_for_month(t, *month(y, m))
    ]
    assert len(amounts) == (per_year if annual else 0)
    assert all(a == half_up(Fraction(annual, per_year)) for a in amounts)


@settings(max_examples=150, deadline=None)
@given(
    start=days_2026_2030,
    cut=st.integers(min_value=0, max_value=91),
    annual=st.integers(min_value=1, max_value=10_000_000),
    bp=st.integers(min_value=0, max_value=10_000),
)
def test_a_part_period_is_its_share_of_days_and_a_discount_never_adds(
    start: date, cut: int, annual: int, bp: int
) -> None:
    period = period_containing(QUARTERLY, start)
    end = min(period.end, start + timedelta(days=cut))
    t = terms(start_date=start, end_date=end, frequency=QUARTERLY, rent_pence_per_year=annual)
    (charge,) = charges_for_month(t, *month(start.year, start.month))
    days = (end - start).days + 1
    assert charge.amount_pence == half_up(Fraction(annual * days, 4 * period.days))
    discounted = terms(
        start_date=start, end_date=end, frequency=QUARTERLY, rent_pence_per_year=annual, discount_bp=bp
    )
    (cheaper,) = charges_for_month(discounted, *month(start.year, start.month))
    assert cheaper.amount_pence == half_up(Fraction(annual * days * (10_000 - bp), 4 * period.days * 10_000))
    assert cheaper.amount_pence <= charge.amount_pence


@settings(max_examples=100, deadline=None)
@given(
    start=days_2026_2030,
    free_from=st.integers(min_value=0, max_value=200),
    free_days=st.integers(min_value=0, max_value=200),
    frequency=st.sampled_from([MONTHLY, QUARTERLY]),
)
def test_rent_free_days_carry_no_rent_and_the_service_charge_goes_on(
    start: date, free_from: int, free_days: int, frequency: str
) -> None:
    end = start + timedelta(days=400)
    rf_start = start + timedelta(days=free_from)
    rf_end = rf_start + timedelta(days=free_days)
    plain = terms(
        start_date=start,
        end_date=end,
        frequency=frequency,
        rent_pence_per_year=3_650_000,
        service_charge_pence_per_year=365_000,
    )
    free = terms(
        start_date=start,
        end_date=end,
        frequency=frequency,
        rent_pence_per_year=3_650_000,
        service_charge_pence_per_year=365_000,
        rent_free_start=rf_start,
        rent_free_end=rf_end,
    )
    for y, m in months_between(start, end):
        a = {(c.kind, c.period.start): c for c in charges_for_month(plain, *month(y, m))}
        b = {(c.kind, c.period.start): c for c in charges_for_month(free, *month(y, m))}
        assert a.keys() == b.keys()
        for key, charge in a.items():
            other = b[key]
            if key[0] == SERVICE_CHARGE:
                assert other.amount_pence == charge.amount_pence
                continue
            lo, hi = max(charge.covered_start, rf_start), min(charge.covered_end, rf_end)
            free_in = max(0, (hi - lo).days + 1)
            days = (charge.covered_end - charge.covered_start).days + 1
            per_year = 12 if frequency == MONTHLY else 4
            assert other.amount_pence == half_up(
                Fraction(3_650_000 * (days - free_in), per_year * charge.period.days)
            )


def test_two_reviews_in_one_period_each_take_effect_from_their_date() -> None:
    # Monthly, March 2027 (31 days): 1–10 at £3,100, 11–20 at £6,200, 21–31 at £9,300 a year.
    t = terms(
        start_date=date(2027, 1, 1),
        rent_pence_per_year=310_000,
        reviews=(Review(date(2027, 3, 21), 930_000), Review(date(2027, 3, 11), 620_000)),
    )
    # (310,000 × 10 + 620,000 × 10 + 930,000 × 11) / (12 × 31) = 19,530,000 / 372 = 52,500
    assert run(t, 2027, 3) == {RENT: [(date(2027, 3, 1), 52_500)]}
