"""The module contract: what a module (rooms, the café, tenants, …) brings to the hub.

A module is one :class:`Module` value, usually built in its ``plugin.py``. The composition root
(``hub/app.py``) keeps the one list of modules; the app, the CLI, the migrations and the demo loop
over it, and money asks the :class:`Registry` — never a module by name — what a charge's source
is and which income streams exist.

The core itself is a module too (``hub.plugin.CORE``), first in the list: it brings the income
stream "other", the manual charge source, the money commands and the core's home panels.

How to add a module
-------------------
1. Make a package beside ``hub/`` (``lockers/``) that imports only ``hub`` (and, at most, another
   module's public API in the direction DESIGN §1 allows; never the other way round).
2. In its ``plugin.py`` build one ``Module(name="lockers", ...)`` naming what it brings, each
   optional:

   - ``routes``: its Litestar handlers/controllers; every route says who may call it in its
     ``opt`` (``hub.auth.roles(...)`` or ``PUBLIC``). API under ``/api/v1``, pages beside them.
   - ``nav``: :class:`hub.web.NavItem` entries (label, link, roles, order).
   - ``package_dir``: its folder; pages are found in ``<package_dir>/templates/<name>/``.
   - ``load_models``: a function importing its ``models.py`` (tables on ``hub.db.Base``); the
     tables themselves come only from an Alembic migration in ``alembic/versions/``.
   - ``income_streams``: :class:`IncomeStream` (code, label, heading in the accounts) it earns into.
   - ``charge_sources``: :class:`ChargeSource` (type, label, default stream, link to the thing
     charged) for what it charges for. It posts charges only through ``hub.billing``'s public API
     (``post_for_source`` with a ``Posting`` naming its source type and id, in its own transaction;
     it commits). Money then invoices ``{"source_type": ..., "source_id": ...}`` and links charges
     and invoices back to the thing through the registry; it never names the module.
   - ``demo``: a :data:`DemoSeed` that adds its part of the demo hub.
   - ``cli``: click commands or groups; ``hubkeeper`` adds them to its own group. They read the
     settings with ``hub.commands.cli_settings()`` and work in ``hub.commands.run_with_db``.
   - ``home_panels``: :class:`HomePanel` (template, roles, loader) for the home page.
   - ``provides``: named services it offers to whoever asks by that name, without either side
     importing the other against DESIGN §1 — the asker owns the name and the signature (a
     constant and a Protocol in its public API), the provider registers a function under it.
     For example rooms asks ``registry.provided(rooms.HIRE_ALLOWANCE)`` what a tenant's hours
     left make of a booking's hire, and tenants provides it; trustee reports ask for each
     module's report queries the same way.
3. Add the module to :func:`hub.app.default_modules` (after the modules it stands on). A module
   that only the tests know is passed instead: ``create_app(settings, modules=[*default_modules(),
   LOCKERS])`` (see ``tests/modules/lockers.py``, a whole module in one file).

``tests/hub/test_imports.py`` fails on an import cycle or a dependency against DESIGN §1, and
``tests/hub/test_permissions.py`` lists every route with the roles it expects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
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


# The demo: each module seeds its part in list order, given the organisations made so far (ids by
# name). A seed may add to that dict: the core's adds the demo organisations before anyone else runs.
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
    # Named services offered to other parts of the hub (see "provides" above).
    provides: Mapping[str, Any] = field(default_factory=dict)


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

    def provided(self, name: str) -> list[Any]:
        """What the modules provide under ``name``, in module order (empty: nobody does)."""
        return [module.provides[name] for module in self.modules if name in module.provides]

    def home_panels_for(self, role: Role) -> list[HomePanel]:
        """The panels this role sees on the home page, in order (then in module order)."""
        panels = [panel for module in self.modules for panel in module.home_panels if role in panel.roles]
        return sorted(panels, key=lambda panel: panel.order)

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
