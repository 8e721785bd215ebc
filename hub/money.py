"""Money is integer pence; VAT rates are basis points (2000 = 20%). One rounding rule: half-up per line."""

from __future__ import annotations


def vat_pence(net_pence: int, rate_bp: int) -> int:
    """VAT on one line, rounded half-up to the penny (0.5p rounds up). Negative lines mirror positive."""
    if net_pence < 0:
        return -vat_pence(-net_pence, rate_bp)
    return (net_pence * rate_bp + 5_000) // 10_000


def proportion_pence(amount_pence: int, numerator: int, denominator: int) -> int:
    """``amount × numerator / denominator``, rounded half-up (for pro-rata hire and fees)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    return (amount_pence * numerator * 2 + denominator) // (2 * denominator)


def format_pence(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    pounds, pennies = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{pennies:02d}"
