"""Text hygiene shared by every input path."""

from __future__ import annotations

import re

# Control characters other than tab, newline and carriage return. NUL in particular is refused by
# PostgreSQL, so it must never reach a query.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_control(value: str) -> str:
    return _CONTROL.sub("", value)


def search_term(value: str | None) -> str:
    """A search box's text, safe to put in a LIKE pattern on either database."""
    return strip_control(value or "").strip()


def name_key(name: str) -> str:
    """What makes two names the same name: case and spacing do not count."""
    return " ".join(name.split()).casefold()
