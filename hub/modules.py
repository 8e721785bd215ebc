"""The module contract: what a module (rooms, the café, tenants, …) brings to the hub.

A module is one :class:`Module` value, usually built in its ``plugin.py``. The composition root
(``hub/app.py``) keeps the one list of modules; the app, the CLI, the migrations and the demo loop
over it, and money asks the :class:`Registry` — never a module by name — what a charge's source
is and which income streams exist. Adding a module is adding it to that list (or, for a module
that only the tests know, passing it to ``create_app(settings, modules=[...])``).

The core itself is a module too (``hub.plugin.CORE``), first in the list: it brings the income
stream "other" and the manual charge source.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click
    from litestar.types import ControllerRouterHandler
    from sqlalchemy.ext.asyncio import AsyncSession

    from hub.auth import Identity
    from hub.config import Settings
    from hub.models import Role
    from hub.web import NavItem


@dataclass(frozen=True)
class IncomeStream:
    """A kind of income the hub earns, as trustees and the charity's accounts see it.

    ``code`` is what charges, invoice lines and ledger entries store (lower-case, ``[a-z_]``);
    ``heading`` is where it sits in the accounts (for example "Income from charitable activities"
    or "Income from trading activities")."""

    code: str
    label: str
    heading: str


@dataclass(frozen=True)
class ChargeSource:
    """A kind of thing a module charges for (a booking, a rent period, a locker).

    ``link`` answers the page that shows the thing charged, from the charge's ``source_id``
    (None: no page). ``stream`` is the income stream its charges earn into by default."""

    type: str
    label: str
    stream: str
    link: Callable[[str], str | None] = field(default=lambda _source_id: None)


@dataclass(frozen=True)
class HomePanel:
    """A panel on the home page for the roles named: ``template`` rendered with what ``load``
    answers (one bounded set of queries)."""

    template: str
    roles: frozenset[Role]
    load: Callable[[AsyncSession, Identity, Settings], Awaitable[dict[str, Any]]]
    order: int = 100


# The demo: each module seeds its part in list order, given what earlier modules made (by name).
DemoSeed = Callable[["AsyncSession", "Settings", dict[str, int]], Awaitable[None]]


@dataclass(frozen=True)
class Module:
    name: str
    routes: Sequence[ControllerRouterHandler] = ()
    nav: Sequence[NavItem] = ()
    # The folder holding this module's ``templates/`` (None: it has no pages of its own).
    package_dir: Path | None = None
    # Imports that define the module's tables on ``hub.db.Base.metadata`` (called once).
    load_models: Callable[[], None] | None = None
    demo: DemoSeed | None = None
    cli: Sequence[click.Command] = ()
    home_panels: Sequence[HomePanel] = ()
    charge_sources: Sequence[ChargeSource] = ()
    income_streams: Sequence[IncomeStream] = ()


class Registry:
    """What the modules of one app declare, looked up by code or type."""

    def __init__(self, modules: Iterable[Module]) -> None:
        self.modules: tuple[Module, ...] = tuple(modules)
        self.streams: dict[str, IncomeStream] = {}
        self.sources: dict[str, ChargeSource] = {}
        for module in self.modules:
            for stream in module.income_streams:
                if stream.code in self.streams:
                    raise ValueError(f"income stream {stream.code!r} is declared twice")
                self.streams[stream.code] = stream
            for source in module.charge_sources:
                if source.type in self.sources:
                    raise ValueError(f"charge source {source.type!r} is declared twice")
                self.sources[source.type] = source
        for source in self.sources.values():
            if source.stream not in self.streams:
                raise ValueError(f"charge source {source.type!r} earns into unknown stream {source.stream!r}")

    def stream_label(self, code: str) -> str:
        stream = self.streams.get(code)
        return stream.label if stream else code.replace("_", " ").capitalize()

    def source_label(self, source_type: str) -> str:
        source = self.sources.get(source_type)
        return source.label if source else source_type.replace("_", " ").capitalize()

    def source_link(self, source_type: str, source_id: str | None) -> str | None:
        source = self.sources.get(source_type)
        if source is None or source_id is None:
            return None
        return source.link(source_id)
