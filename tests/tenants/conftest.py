"""Tenants test helpers: units and agreements made through the real services (shared by the
tenants tests; import ``make_unit`` / ``make_agreement`` or use the ``tenancy`` fixture)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hub.auth import Identity
from hub.config import Settings
from hub.models import OrganisationKind
from tenants.models import AgreementKind, Frequency, UnitKind
from tenants.schemas import AgreementCreate, UnitCreate
from tenants.services import agreements, units
from tests.conftest import Hub, base_settings

SYSTEM = Identity.system("test")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Uploaded files (signed agreements) go to the test's own folder, never the working tree."""
    return replace(base_settings(database_url), data_dir=tmp_path / "data")


def hub_settings(hub: Hub) -> Settings:
    settings: Settings = hub.client.app.state.settings
    return settings


def make_unit(
    hub: Hub,
    name: str,
    *,
    kind: UnitKind = UnitKind.OFFICE,
    area_m2: str | Decimal = "20.00",
    floor: str = "Ground",
    **fields: Any,
) -> int:
    data = UnitCreate(name=name, kind=kind, area_m2=Decimal(area_m2), floor=floor, **fields)
    return hub.run(lambda db: units.create_unit(db, SYSTEM, data)).id


def make_agreement(
    hub: Hub,
    organisation_id: int,
    unit_ids: list[int],
    start: date,
    end: date | None = None,
    *,
    activate: bool = True,
    rent_pence_per_year: int = 1_200_000,
    frequency: Frequency = Frequency.QUARTERLY,
    kind: AgreementKind = AgreementKind.LICENCE,
    **fields: Any,
) -> int:
    """An agreement (active unless ``activate=False``); rolling (3 months' notice) without ``end``."""
    if end is None:
        fields.setdefault("notice_months", 3)
    data = AgreementCreate(
        organisation_id=organisation_id,
        kind=kind,
        unit_ids=unit_ids,
        start_date=start,
        end_date=end,
        rent_pence_per_year=rent_pence_per_year,
        frequency=frequency,
        **fields,
    )
    settings = hub_settings(hub)
    agreement = hub.run(lambda db: agreements.create_agreement(db, settings, SYSTEM, data))
    if activate:
        hub.run(lambda db: agreements.activate(db, settings, SYSTEM, agreement.id))
    return agreement.id


@dataclass
class Tenancy:
    organisation_id: int
    other_organisation_id: int
    unit_id: int
    other_unit_id: int
    agreement_id: int
    other_agreement_id: int


@pytest.fixture
def tenancy(hub: Hub) -> Tenancy:
    """Two tenants, each with an office and an active agreement from 1 April 2026 for two years."""
    org = hub.make_org("Fleetwood Food Bank", kind=OrganisationKind.VCSE)
    other = hub.make_org("Wyre Credit Union", kind=OrganisationKind.VCSE)
    unit = make_unit(hub, "Office 1", area_m2="18.50")
    other_unit = make_unit(hub, "Office 2", area_m2="24.00", floor="First")
    agreement = make_agreement(hub, org, [unit], date(2026, 4, 1), date(2028, 3, 31))
    other_agreement = make_agreement(hub, other, [other_unit], date(2026, 4, 1), date(2028, 3, 31))
    return Tenancy(org, other, unit, other_unit, agreement, other_agreement)
