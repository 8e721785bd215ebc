"""Request and answer bodies of the data-protection API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta, Struct

from hub.schemas import Email, Input, LongText

# The confirmation is compared with the email by the service (422 naming ``confirm``), so any
# short text is accepted here.
Confirmation = Annotated[str, Meta(max_length=254)]


class PersonalDataRequest(Input):
    """Whose data: the person's email address (case-insensitive)."""

    email: Email


class ErasureRequest(Input):
    """Erase a person: their email, why (required), and the same email typed again."""

    email: Email
    reason: LongText = ""
    confirm: Confirmation = ""


class KeptOut(Struct):
    what: str
    fields: list[str]
    why: str
    count: int


class ErasureOut(Struct):
    """What an erasure changed (rows of each kind), what it kept on purpose and why."""

    pseudonym: str
    erased_at: datetime
    counts: dict[str, int]
    kept: list[KeptOut]
    audit_entry_id: int
