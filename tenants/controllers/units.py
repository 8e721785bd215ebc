"""/api/v1/units — the admin manages lettable units; staff and trustees read them."""

from __future__ import annotations

from datetime import date

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from hub.auth import ADMIN_ONLY, STAFF, roles
from hub.deps import Caller, Db, SettingsDep
from hub.models import Role
from hub.schemas import within_calendar
from tenants.schemas import UnitCreate, UnitOut, UnitUpdate
from tenants.services import units as service

READ = roles(STAFF, Role.TRUSTEE)
WRITE = roles(ADMIN_ONLY)


class UnitController(Controller):
    path = "/api/v1/units"
    tags = ["tenants"]

    @get("/", opt=READ, summary="Lettable units and their status on a day (default today)")
    async def list_units(
        self, db: Db, settings: SettingsDep, on: FromQuery[date | None] = None
    ) -> list[UnitOut]:
        day = within_calendar(on, "on") if on is not None else settings.today()
        return await service.list_units(db, day)

    @post("/", opt=WRITE, summary="Add a unit")
    async def create_unit(
        self, db: Db, settings: SettingsDep, identity: Caller, data: JSONBody[UnitCreate]
    ) -> UnitOut:
        unit = await service.create_unit(db, identity, data)
        return await service.get_unit_out(db, unit.id, settings.today())

    @get("/{unit_id:int}", opt=READ, summary="One unit")
    async def get_unit(self, db: Db, settings: SettingsDep, unit_id: FromPath[int]) -> UnitOut:
        return await service.get_unit_out(db, unit_id, settings.today())

    @patch("/{unit_id:int}", opt=WRITE, summary="Change a unit (out_of_use=true to take it out of use)")
    async def update_unit(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        unit_id: FromPath[int],
        data: JSONBody[UnitUpdate],
    ) -> UnitOut:
        unit = await service.update_unit(db, identity, unit_id, data)
        return await service.get_unit_out(db, unit.id, settings.today())
