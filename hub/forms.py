"""Reading what people type into a page's form, for every module's pages.

A page reads its form with these, collects every field's problem at once (:class:`Problems`),
then hands typed values to a service; the service checks the rules. Errors are
:class:`hub.errors.InvalidInput` naming the form's field, so the page shows each message beside
its input (and the API's problem details name the same field).

- :func:`parse_pence` — pounds as typed ("£1,250.50", "12.5", "12") → integer pence.
- :func:`pounds_input` — pence → the value of an amount input ("12.50").
- :func:`parse_day` — an ISO date, required or not, with a clear error.
- :func:`parse_date` / :func:`parse_clock` — lenient: a date / a local time of day, or None.
- :func:`parse_id` / :func:`parse_page` — an id (None if it cannot be one) / a page number.
- :class:`Problems` — collect errors while reading; ``read`` one field, ``convert`` to a schema,
  ``raise_any`` at the end.
- :func:`renamed` — a service's errors (named after its schema) renamed to the form's inputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, time
from typing import Any, TypeVar

from hub.db import is_valid_id
from hub.errors import DomainError, FieldError, InvalidInput
from hub.money import format_pence
from hub.schemas import convert_input
from hub.web import form_errors

T = TypeVar("T")

MAX_PENCE = 100_000_000  # £1,000,000: the most a person may type (the schemas' limit)
MAX_PAGE = 100_000

_AMOUNT = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d+)?$")


def parse_pence(text: str | None, field: str) -> int:
    """Pounds as people type them ("£1,250.50", "12.5", "12") → pence; anything else is an error
    for ``field``: blank, negative, zero, more than two decimal places, or absurdly large."""
    raw = (text or "").strip().replace(" ", "")
    if not raw:
        raise InvalidInput("Enter an amount in pounds, such as 12.50.", field=field)
    if raw.startswith(("-", "£-", "−", "£−")):
        raise InvalidInput("Enter the amount without a minus sign.", field=field)
    raw = raw.removeprefix("£")
    if not raw or not _AMOUNT.match(raw):
        raise InvalidInput("Enter an amount in pounds, such as 12.50.", field=field)
    pounds, _, pennies = raw.replace(",", "").partition(".")
    if len(pennies) > 2:
        raise InvalidInput(
            "Enter pounds and pence, with no more than two digits after the point.", field=field
        )
    if len(pounds) > 9:
        raise InvalidInput(f"That is more than {format_pence(MAX_PENCE)}; check the amount.", field=field)
    pence = int(pounds or "0") * 100 + int(pennies.ljust(2, "0") or "0")
    if pence < 1:
        raise InvalidInput("Enter an amount of at least £0.01.", field=field)
    if pence > MAX_PENCE:
        raise InvalidInput(f"That is more than {format_pence(MAX_PENCE)}; check the amount.", field=field)
    return pence


def pounds_input(pence: int) -> str:
    """Pence as the value of an amount input: 1250 → "12.50"."""
    return f"{pence // 100}.{pence % 100:02d}"


def parse_day(text: str | None, field: str, *, required: bool = True) -> date | None:
    """An ISO date (2026-11-25); blank is an error for ``field`` unless not ``required``."""
    raw = (text or "").strip()
    if not raw:
        if required:
            raise InvalidInput("Enter a date.", field=field)
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("Enter a real date, such as 2026-11-25.", field=field) from None


def parse_date(text: str | None) -> date | None:
    """An ISO date, or None when blank or not a date (for filters that fall back quietly)."""
    try:
        return date.fromisoformat((text or "").strip()) if text else None
    except ValueError:
        return None


def parse_clock(text: str | None) -> time | None:
    """A local time of day: 14:30, 9:30, 14.30 or 1430 (quick to type), or HH:MM:00; else None."""
    raw = (text or "").strip().replace(".", ":")
    if raw.isdigit() and len(raw) in (3, 4):
        raw = f"{raw[:-2]}:{raw[-2:]}"
    parts = raw.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        return None
    if len(parts) == 3 and parts[2] != "00":
        return None
    if len(parts[0]) > 2 or len(parts[1]) != 2:
        return None
    hours, minutes = int(parts[0]), int(parts[1])
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        return None
    return time(hours, minutes)


def parse_id(text: str | None) -> int | None:
    """A database id as typed or posted, or None when it cannot be one."""
    raw = (text or "").strip()
    if not raw.isdigit() or len(raw) > 19:
        return None
    value = int(raw)
    return value if is_valid_id(value) else None


def parse_page(text: str | None) -> int:
    """A page number from the query string: 1 when missing or nonsense, at most ``MAX_PAGE``."""
    return min(parse_id(text) or 1, MAX_PAGE)


class Problems:
    """Errors found while reading a form, so every field's problem is reported at once."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def check(self, exc: DomainError) -> None:
        """Keep ``exc``'s field errors (or its detail, for the form as a whole)."""
        self.items.extend(exc.errors or [FieldError(field="", reason=exc.detail)])

    def add(self, field: str, reason: str) -> None:
        self.items.append(FieldError(field=field, reason=reason))

    def read(self, parse: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``parse(*args, **kwargs)``, or None with its error kept."""
        try:
            return parse(*args, **kwargs)
        except DomainError as exc:
            self.check(exc)
            return None

    def convert(self, data: dict[str, Any], type_: type[T]) -> T:
        """Validate ``data`` as ``type_``; raise every problem so far and the schema's at once."""
        try:
            result = convert_input(data, type_)
        except DomainError as exc:
            self.check(exc)
            raise InvalidInput("Please correct the form.", errors=self.items) from exc
        self.raise_any()
        return result

    def raise_any(self) -> None:
        if self.items:
            raise InvalidInput("Please correct the form.", errors=self.items)


def renamed(
    exc: DomainError, names: dict[str, str], default: str | None = None
) -> tuple[dict[str, str], str]:
    """The service names fields after its schema; the page names them after its inputs.

    ``names`` maps a schema field to an input name; a key ending in ``*`` matches every field
    starting with what precedes it (``"lines*"``). Unnamed fields keep their name, or take
    ``default`` (then "form") when the error names no field. Returns (input → message, summary)."""
    by_field, summary = form_errors(exc)
    out: dict[str, str] = {}
    for field, reason in by_field.items():
        key = names.get(field)
        if key is None:
            key = next((v for k, v in names.items() if k.endswith("*") and field.startswith(k[:-1])), None)
        out.setdefault(key or field or default or "form", reason)
    return out, summary
