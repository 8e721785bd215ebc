"""/api/v1/agreements — the admin manages agreements; staff and trustees read them (and the alerts);
a tenant reads only its own organisation's agreements and their signed documents."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from hub.auth import ADMIN_ONLY, STAFF, roles
from hub.deps import Caller, Db, SettingsDep
from hub.models import Role
from hub.schemas import within_calendar
from tenants.models import AgreementStatus
from tenants.schemas import (
    AgreementCreate,
    AgreementOut,
    AgreementUpdate,
    AlertOut,
    BreakIn,
    EndIn,
    NoticeIn,
    RenewIn,
    ReviewIn,
)
from tenants.services import agreements as service
from tenants.services import alerts as alerts_service

READ = roles(STAFF, Role.TRUSTEE, Role.TENANT)
STAFF_READ = roles(STAFF, Role.TRUSTEE)
WRITE = roles(ADMIN_ONLY)


async def read_capped(request: Request[Any, Any, Any], limit: int) -> bytes:
    """The request body, read only up to ``limit + 1`` bytes: enough to know it is too large."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)


class AgreementController(Controller):
    path = "/api/v1/agreements"
    tags = ["tenants"]

    @get("/", opt=READ, summary="Agreements (a tenant: its own only), newest first")
    async def list_agreements(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        status: FromQuery[AgreementStatus | None] = None,
        organisation_id: Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)] = None,
        unit_id: Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)] = None,
    ) -> list[AgreementOut]:
        rows = await service.list_agreements(
            db, identity, status=status, organisation_id=organisation_id, unit_id=unit_id
        )
        return await service.agreements_out(db, settings, rows)

    @post("/", opt=WRITE, summary="Draft a new agreement")
    async def create_agreement(
        self, db: Db, settings: SettingsDep, identity: Caller, data: JSONBody[AgreementCreate]
    ) -> AgreementOut:
        agreement = await service.create_agreement(db, settings, identity, data)
        return await service.one_out(db, settings, agreement)

    @get(
        "/alerts",
        opt=STAFF_READ,
        summary="Ends, breaks, rent reviews, insurance expiries and arrears, soonest first",
    )
    async def alerts(
        self, db: Db, settings: SettingsDep, on: FromQuery[date | None] = None
    ) -> list[AlertOut]:
        day = within_calendar(on, "on") if on is not None else settings.today()
        return [alert.out() for alert in await alerts_service.alerts(db, settings, day)]

    @get("/{agreement_id:int}", opt=READ, summary="One agreement")
    async def get_agreement(
        self, db: Db, settings: SettingsDep, identity: Caller, agreement_id: FromPath[int]
    ) -> AgreementOut:
        return await service.one_out(db, settings, await service.get_agreement(db, identity, agreement_id))

    @patch("/{agreement_id:int}", opt=WRITE, summary="Change an agreement's terms")
    async def update_agreement(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        agreement_id: FromPath[int],
        data: JSONBody[AgreementUpdate],
    ) -> AgreementOut:
        agreement = await service.update_agreement(db, settings, identity, agreement_id, data)
        return await service.one_out(db, settings, agreement)

    @post(
        "/{agreement_id:int}/activate", opt=WRITE, status_code=200, summary="A signed draft comes into force"
    )
    async def activate(
        self, db: Db, settings: SettingsDep, identity: Caller, agreement_id: FromPath[int]
    ) -> AgreementOut:
        agreement = await service.activate(db, settings, identity, agreement_id)
        return await service.one_out(db, settings, agreement)

    @post(
        "/{agreement_id:int}/notice", opt=WRITE, status_code=200, summary="Notice given to end the agreement"
    )
    async def give_notice(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        agreement_id: FromPath[int],
        data: JSONBody[NoticeIn],
    ) -> AgreementOut:
        agreement = await service.give_notice(
            db, settings, identity, agreement_id, data.given_on, data.end_date, data.reason
        )
        return await service.one_out(db, settings, agreement)

    @post(
        "/{agreement_id:int}/end",
        opt=WRITE,
        status_code=200,
        summary="End the agreement (a date and a reason)",
    )
    async def end(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        agreement_id: FromPath[int],
        data: JSONBody[EndIn],
    ) -> AgreementOut:
        agreement = await service.end_agreement(
            db, settings, identity, agreement_id, data.ended_on, data.reason
        )
        return await service.one_out(db, settings, agreement)

    @post(
        "/{agreement_id:int}/renew", opt=WRITE, status_code=201, summary="Renew: a new linked draft agreement"
    )
    async def renew(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        agreement_id: FromPath[int],
        data: JSONBody[RenewIn],
    ) -> AgreementOut:
        agreement = await service.renew(db, settings, identity, agreement_id, data)
        return await service.one_out(db, settings, agreement)

    @post("/{agreement_id:int}/breaks", opt=WRITE, status_code=201, summary="Add a break date")
    async def add_break(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        agreement_id: FromPath[int],
        data: JSONBody[BreakIn],
    ) -> AgreementOut:
        agreement = await service.add_break(db, settings, identity, agreement_id, data)
        return await service.one_out(db, settings, agreement)

    @post("/{agreement_id:int}/reviews", opt=WRITE, status_code=201, summary="Add a rent review")
    async def add_review(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        agreement_id: FromPath[int],
        data: JSONBody[ReviewIn],
    ) -> AgreementOut:
        agreement = await service.add_review(db, settings, identity, agreement_id, data)
        return await service.one_out(db, settings, agreement)

    @put(
        "/{agreement_id:int}/document",
        opt=WRITE,
        status_code=200,
        summary="Upload the signed agreement (the PDF as the body; ?filename= names it)",
        request_max_body_size=None,  # the hub's own limit (a setting) is enforced while reading
    )
    async def upload_document(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        agreement_id: FromPath[int],
        filename: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> AgreementOut:
        await service.get_agreement(db, identity, agreement_id)  # 404 before reading a large body
        content = await read_capped(request, settings.agreement_document_max_bytes)
        agreement = await service.upload_document(db, settings, identity, agreement_id, content, filename)
        return await service.one_out(db, settings, agreement)

    @get("/{agreement_id:int}/document", opt=READ, summary="The signed agreement (PDF)")
    async def download_document(
        self, db: Db, settings: SettingsDep, identity: Caller, agreement_id: FromPath[int]
    ) -> Response[bytes]:
        path, filename = await service.document_for(db, settings, identity, agreement_id)
        safe = filename.encode("ascii", "replace").decode("ascii").replace('"', "")
        return Response(
            content=path.read_bytes(),
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{safe}"',
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )
