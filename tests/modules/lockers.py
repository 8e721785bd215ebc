"""A newcomer's module, known only to the tests: locker hire.

It is what the module contract (``hub/modules.py``) asks of anyone adding to the hub, and nothing
more: one :class:`~hub.modules.Module` value naming its income stream, its charge source (with the
link to the thing charged), one API route and one navigation item. It is mounted by
``create_app(settings, modules=[*default_modules(), LOCKERS])``; the core is not edited for it.

It posts its charges through money's public API (``hub.billing.post_for_source``) and imports
nothing else of ``hub.billing``: invoicing, payments, the ledger and the money pages then work for
it through the registry alone.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import post
from litestar.params import JSONBody, Parameter

from hub.auth import STAFF, roles
from hub.billing import Posting, post_for_source
from hub.deps import Caller, Db, SettingsDep
from hub.errors import InvalidInput
from hub.models import Organisation
from hub.modules import ChargeSource, IncomeStream, Module
from hub.web import NavItem

# A week's hire of one locker, and its VAT: a locker is a standard-rated supply of storage, not a
# licence to occupy a room (so unlike room hire it is taxed).
WEEKLY_NET_PENCE = 500
VAT_RATE_BP = 2_000


class LockerRent(msgspec.Struct, forbid_unknown_fields=True):
    organisation_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    weeks: Annotated[int, msgspec.Meta(ge=1, le=52)]


class LockerRented(msgspec.Struct):
    locker_id: int
    organisation_id: int
    weeks: int
    net_pence: int


@post("/api/v1/lockers/{locker_id:int}/rent", opt=roles(STAFF), tags=["lockers"], summary="Rent a locker")
async def rent_locker(
    db: Db,
    identity: Caller,
    settings: SettingsDep,
    locker_id: Annotated[int, Parameter(ge=1, le=2**31 - 1)],
    data: JSONBody[LockerRent],
) -> LockerRented:
    """Charge an organisation for ``weeks`` of one locker, from today (the building's today)."""
    if await db.get(Organisation, data.organisation_id) is None:
        raise InvalidInput(f"no organisation has id {data.organisation_id}", field="organisation_id")
    today = settings.today()
    net_pence = WEEKLY_NET_PENCE * data.weeks
    posting = Posting(
        source_key=f"locker:{locker_id}:{data.organisation_id}:{today.isoformat()}",
        source_type="locker",
        source_id=str(locker_id),
        organisation_id=data.organisation_id,
        description=f"Locker {locker_id}, {data.weeks} weeks",
        supply_date=today,
        net_pence=net_pence,
        vat_rate_bp=VAT_RATE_BP,
        stream="lockers",
    )
    await post_for_source(db, identity, [posting], reason="The locker's hire was changed")
    await db.commit()
    return LockerRented(
        locker_id=locker_id, organisation_id=data.organisation_id, weeks=data.weeks, net_pence=net_pence
    )


LOCKERS = Module(
    name="lockers",
    routes=[rent_locker],
    nav=[NavItem("Lockers", "/lockers", frozenset(STAFF), order=60)],
    income_streams=[IncomeStream("lockers", "Locker hire", "Income from charitable activities")],
    charge_sources=[
        ChargeSource("locker", "Locker", "lockers", link=lambda source_id: f"/lockers/{source_id}")
    ],
)
