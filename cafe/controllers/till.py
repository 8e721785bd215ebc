"""/api/v1/cafe: tills, sessions (open, X/Z report, close), sales (idempotent by the till's UUID),
refunds, voids and the trading report."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from cafe.controllers.access import REPORTS, SUPERVISOR, TILL, TRADING
from cafe.schemas import (
    CafeTradingOut,
    RefundIn,
    SaleIn,
    SaleOut,
    SaleSummary,
    SessionClose,
    SessionOpen,
    SessionOut,
    SessionReport,
    TillIn,
    TillOut,
    VoidIn,
)
from cafe.services import reports, sales, tills
from hub.deps import Caller, Db, SettingsDep
from hub.errors import InvalidInput
from hub.schemas import within_calendar


class TillController(Controller):
    path = "/api/v1/cafe/tills"
    tags = ["cafe"]

    @get("/", opt=TILL, summary="The tills, each with its open session if any")
    async def list_tills(self, db: Db) -> list[TillOut]:
        return await tills.list_tills(db)

    @post("/", opt=SUPERVISOR, summary="Add a till")
    async def create_till(self, db: Db, identity: Caller, data: JSONBody[TillIn]) -> TillOut:
        return await tills.create_till(db, identity, data)


class SessionController(Controller):
    path = "/api/v1/cafe/sessions"
    tags = ["cafe"]

    @get("/", opt=TILL, summary="Till sessions, newest first")
    async def list_sessions(
        self, db: Db, status: Annotated[Literal["open", "closed"] | None, QueryParameter()] = None
    ) -> list[SessionOut]:
        return await tills.list_sessions(db, status=status)

    @post("/", opt=SUPERVISOR, summary="Open a session on a till with a counted float (409 if one is open)")
    async def open_session(self, db: Db, identity: Caller, data: JSONBody[SessionOpen]) -> SessionOut:
        return await tills.open_session(db, identity, data)

    @get("/{session_id:int}", opt=TILL, summary="One till session")
    async def get_session(self, db: Db, session_id: FromPath[int]) -> SessionOut:
        return await tills.session_detail(db, session_id)

    @get("/{session_id:int}/report", opt=REPORTS, summary="X report while open, Z report once closed")
    async def report(self, db: Db, session_id: FromPath[int]) -> SessionReport:
        return await tills.report(db, session_id)

    @post(
        "/{session_id:int}/close",
        opt=SUPERVISOR,
        status_code=200,
        summary="Close by counting the cash by denomination; takings go to the ledger",
    )
    async def close(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        session_id: FromPath[int],
        data: JSONBody[SessionClose],
    ) -> SessionOut:
        return await tills.close_session(db, settings, identity, session_id, data)


class SaleController(Controller):
    path = "/api/v1/cafe/sales"
    tags = ["cafe"]

    @post(
        "/",
        opt=TILL,
        summary="Record a sale (same UUID and content: the first answer again; other content: 409)",
    )
    async def record_sale(
        self, db: Db, settings: SettingsDep, identity: Caller, data: JSONBody[SaleIn]
    ) -> Response[SaleOut]:
        sale, replay = await sales.record_sale(db, settings, identity, data)
        if replay:
            return Response(sale, status_code=200, headers={"Idempotent-Replay": "true"})
        return Response(sale, status_code=201, headers={"Location": f"/api/v1/cafe/sales/{sale.uuid}"})

    @get("/", opt=TILL, summary="Sales, newest first (of one session if given)")
    async def list_sales(
        self, db: Db, session_id: Annotated[int | None, QueryParameter(ge=1)] = None
    ) -> list[SaleSummary]:
        return await sales.list_sales(db, session_id=session_id)

    @get("/{sale_uuid:str}", opt=TILL, summary="One sale with its receipt and refunds")
    async def get_sale(self, db: Db, settings: SettingsDep, sale_uuid: FromPath[str]) -> SaleOut:
        return await sales.sale_detail(db, settings, sale_uuid)

    @post(
        "/{sale_uuid:str}/refund",
        opt=SUPERVISOR,
        status_code=200,
        summary="Refund a whole sale or chosen lines",
    )
    async def refund(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        sale_uuid: FromPath[str],
        data: JSONBody[RefundIn],
    ) -> SaleOut:
        return await sales.refund(db, settings, identity, sale_uuid, data)

    @post(
        "/{sale_uuid:str}/void",
        opt=SUPERVISOR,
        status_code=200,
        summary="Void a sale rung in error (open session)",
    )
    async def void(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        sale_uuid: FromPath[str],
        data: JSONBody[VoidIn],
    ) -> SaleOut:
        return await sales.void(db, settings, identity, sale_uuid, data)


class ReportController(Controller):
    path = "/api/v1/cafe/reports"
    tags = ["cafe"]

    @get("/trading", opt=TRADING, summary="Café trading over building-local days (first and last inclusive)")
    async def trading(
        self, db: Db, settings: SettingsDep, first: FromQuery[date], last: FromQuery[date]
    ) -> CafeTradingOut:
        within_calendar(first, "first")
        within_calendar(last, "last")
        if last < first:
            raise InvalidInput("must be on or after first", field="last")
        if (last - first).days > 3 * 366:
            raise InvalidInput("A report covers at most three years.", field="last")
        return CafeTradingOut.of(await reports.cafe_trading(db, settings, first, last))
