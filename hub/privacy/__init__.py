"""Data-protection requests: export everything held about a person, or erase them (UK GDPR).

Who "a person" is
-----------------
A person is identified by **their email address**, compared case-insensitively. Everything held
under that address is theirs: the user account with that email (if there is one, and then
everything tied to the account's id: sessions, API tokens, password resets, audit entries they
made), organisation contacts and booking contacts with that email, login attempts typed with it,
outbox messages sent to it. The names and phone numbers recorded *beside* that email (on the
account, a contact, a booking) are theirs too, and are looked for in the records that concern them
(audit entries about their account or their bookings, messages about them). A name alone, without
the email, never makes a record theirs: two people may share a name.

How a module takes part
-----------------------
The core asks each module for its part by the name :data:`PERSONAL_DATA` (``Module.provides``).
A module registers one object that follows :class:`PersonalDataProvider`:

- ``traces(db, email)``: what it holds under that email, without reading it all: how many
  records, the names and phones recorded with the email, and the audit objects
  (``("booking", "12")``) that are about the person, so the core can pseudonymise the audit
  entries about them;
- ``export(db, person)``: everything it holds about them, JSON-safe (strings, numbers, lists,
  dicts; times as ISO 8601 strings);
- ``erase(db, person, pseudonym)``: replace their personal data with the pseudonym in the
  caller's transaction (flush if needed; **never commit**), answering how many rows of each kind
  it changed. Financial records that must be kept are left as they are and said so in the docs.

:func:`scrub` and :func:`scrub_json` replace the person's email, names and phones inside free
text, for modules whose notes may mention them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = [
    "PERSONAL_DATA",
    "Person",
    "PersonalDataProvider",
    "Pseudonym",
    "Traces",
    "mentions",
    "scrub",
    "scrub_json",
]

PERSONAL_DATA = "privacy.personal_data"

# Names shorter than this are not looked for in free text: "Al" would match too much.
MIN_NAME_LENGTH = 3


@dataclass(frozen=True)
class Traces:
    """What one part of the hub holds under an email address (see :class:`PersonalDataProvider`)."""

    records: int = 0
    names: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    # Audit objects about the person: (object_type, object_id) as the audit log stores them.
    objects: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Person:
    """Who a request is about: the email (lower case), their account's id if one has that email,
    and the names and phones recorded beside the email anywhere in the hub."""

    email: str
    user_id: int | None = None
    names: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    objects: frozenset[tuple[str, str]] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Pseudonym:
    """What replaces a person: one random token per erasure request, used everywhere in it."""

    token: str

    @property
    def name(self) -> str:
        return f"Erased person {self.token}"

    @property
    def email(self) -> str:
        return f"erased-{self.token}@erased.invalid"

    @property
    def phone(self) -> str:
        return "[phone erased]"


class PersonalDataProvider(Protocol):
    """A module's part of a data-protection request (registered under :data:`PERSONAL_DATA`)."""

    async def traces(self, db: AsyncSession, email: str) -> Traces: ...

    async def export(self, db: AsyncSession, person: Person) -> dict[str, Any]: ...

    async def erase(self, db: AsyncSession, person: Person, pseudonym: Pseudonym) -> dict[str, int]: ...


def _patterns(person: Person, pseudonym: Pseudonym) -> list[tuple[re.Pattern[str], str]]:
    # Whole values only: erasing bob@example.org leaves jimbob@example.org alone, "Sam Ryder"
    # leaves "Sam Ryders Ltd" alone, and a phone number is not found inside a longer one.
    email = re.compile(rf"(?<![\w.+\-]){re.escape(person.email)}(?![\w\-]|\.\w)", re.IGNORECASE)
    patterns = [(email, pseudonym.email)]
    names = sorted(
        (n.strip() for n in person.names if len(n.strip()) >= MIN_NAME_LENGTH), key=len, reverse=True
    )
    patterns += [
        (re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE), pseudonym.name) for name in names
    ]
    phones = sorted((p.strip() for p in person.phones if p.strip()), key=len, reverse=True)
    patterns += [(re.compile(rf"(?<!\d){re.escape(phone)}(?!\d)"), pseudonym.phone) for phone in phones]
    return patterns


def scrub(text: str, person: Person, pseudonym: Pseudonym) -> str:
    """``text`` with the person's email, names and phones replaced by the pseudonym's."""
    for pattern, replacement in _patterns(person, pseudonym):
        text = pattern.sub(replacement, text)
    return text


def scrub_json(value: Any, person: Person, pseudonym: Pseudonym) -> Any:
    """A copy of a JSON value with every string scrubbed (keys are field names: left alone)."""
    if isinstance(value, str):
        return scrub(value, person, pseudonym)
    if isinstance(value, list | tuple):
        return [scrub_json(item, person, pseudonym) for item in value]
    if isinstance(value, Mapping):
        return {key: scrub_json(item, person, pseudonym) for key, item in value.items()}
    return value


def mentions(text: str | None, person: Person) -> bool:
    """Whether ``text`` holds the person's email, one of their names or phones."""
    if not text:
        return False
    return any(pattern.search(text) for pattern, _ in _patterns(person, Pseudonym("x")))
