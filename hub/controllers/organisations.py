"""/api/v1/organisations — staff manage; trustees read; a tenant sees only its own."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from hub.auth import STAFF, roles
from hub.deps import Caller, Db
from hub.models import OrganisationKind, Role
from hub.schemas import (
    ArchiveRequest,
    OrganisationCreate,
    OrganisationOut,
    OrganisationPage,
    OrganisationUpdate,
)
from hub.services import organisations as service

READERS = roles(STAFF, Role.TRUSTEE, Role.TENANT)
WRITERS = roles(STAFF)

Status = Literal["active", "archived", "all"]
_ACTIVE = {"active": True, "archived": False, "all": None}


class OrganisationController(Controller):
    path = "/api/v1/organisations"
    tags = ["organisations"]

    @get("/", opt=READERS, summary="Search organisations")
    async def list_organisations(
        self,
        db: Db,
        identity: Caller,
        q: Annotated[
            str | None, QueryParameter(max_length=200, description="Name, number, town, postcode or contact")
        ] = None,
        kind: FromQuery[OrganisationKind | None] = None,
        status: FromQuery[Status] = "active",
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
        per_page: Annotated[int, QueryParameter(ge=1, le=200)] = 25,
    ) -> OrganisationPage:
        return await service.search(
            db, identity, q=q, kind=kind, active=_ACTIVE[status], page=page, per_page=per_page
        )

    @post("/", opt=WRITERS, summary="Add an organisation")
    async def create_organisation(
        self, db: Db, identity: Caller, data: JSONBody[OrganisationCreate]
    ) -> OrganisationOut:
        return service.organisation_out(await service.create(db, identity, data))

    @get("/{organisation_id:int}", opt=READERS, summary="One organisation")
    async def get_organisation(
        self, db: Db, identity: Caller, organisation_id: FromPath[int]
    ) -> OrganisationOut:
        return service.organisation_out(await service.get(db, identity, organisation_id))

    @patch("/{organisation_id:int}", opt=WRITERS, summary="Change an organisation")
    async def update_organisation(
        self, db: Db, identity: Caller, organisation_id: FromPath[int], data: JSONBody[OrganisationUpdate]
    ) -> OrganisationOut:
        return service.organisation_out(await service.update(db, identity, organisation_id, data))

    @post("/{organisation_id:int}/archive", opt=WRITERS, status_code=200, summary="Archive (never delete)")
    async def archive_organisation(
        self, db: Db, identity: Caller, organisation_id: FromPath[int], data: JSONBody[ArchiveRequest]
    ) -> OrganisationOut:
        org = await service.set_active(db, identity, organisation_id, active=False, reason=data.reason)
        return service.organisation_out(org)

    @post("/{organisation_id:int}/restore", opt=WRITERS, status_code=200, summary="Restore an archived one")
    async def restore_organisation(
        self, db: Db, identity: Caller, organisation_id: FromPath[int], data: JSONBody[ArchiveRequest]
    ) -> OrganisationOut:
        org = await service.set_active(db, identity, organisation_id, active=True, reason=data.reason)
        return service.organisation_out(org)
