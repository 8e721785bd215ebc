"""Query helpers every service uses: one page of rows with the total, and get-or-404.

Paging is the same everywhere: ``page`` counts from 1, ``per_page`` rows a page, newest or
alphabetical order as the caller's ``select`` says, and the total counted with the same
conditions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db import is_valid_id
from hub.errors import NotFound

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int
    page: int
    per_page: int


async def page_of(db: AsyncSession, query: Select[Any], *, page: int, per_page: int) -> Page[Any]:
    """Rows ``(page - 1) * per_page`` onwards of ``query``, and how many the query has in all."""
    total = await db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = list(await db.scalars(query.offset((page - 1) * per_page).limit(per_page)))
    return Page(rows=rows, total=int(total), page=page, per_page=per_page)


async def get_or_404(db: AsyncSession, model: type[T], object_id: int, what: str, **options: Any) -> T:
    """The row with that id, or a 404 saying ``"<what> was not found."``; an id too large for the
    database finds nothing rather than failing."""
    found = await db.get(model, object_id, **options) if is_valid_id(object_id) else None
    if found is None:
        raise NotFound(f"{what} was not found.")
    return found
