"""/api/v1/agreements/{id}/deposit and /allowance: a tenant's money beside its agreement.

The admin records a deposit received, kept or returned (the ledger's held-deposits account,
never income at receipt); staff, trustees and the tenant itself read the month's meeting-room
hours (another organisation's agreement answers 404)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import Meta, Struct

from hub.auth import ADMIN_ONLY, STAFF, roles
from hub.deps import Caller, Db, SettingsDep
from hub.errors import InvalidInput
from hub.models import Role
from hub.schemas import Input
from tenants.services import agreements as agreements_service
from tenants.services import allowance, deposits

ALLOWANCE_READ = roles(STAFF, Role.TRUSTEE, Role.TENANT)
DEPOSIT_WRITE = roles(ADMIN_ONLY)

Note = Annotated[str, Meta(max_length=1000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]


class DepositIn(Input):
    action: Literal["received", "returned", "kept"]
    on: date
    amount_pence: Annotated[int, Meta(ge=1, le=100_000_000_000)] | None = None
    note: Note = ""
    method: Literal["bank", "cash"] = "bank"


class DepositOut(Struct):
    agreement_id: int
    deposit_pence: int
    received_on: date | None
    kept_pence: int
    kept_on: date | None
    returned_on: date | None
    held_pence: int
    note: str | None


class AllowanceOut(Struct):
    agreement_id: int
    month: str
    included_minutes: int
    used_minutes: int
    left_minutes: int
    over_minutes: int


def parse_month(value: str | None, today: date) -> date:
    if not value:
        return today.replace(day=1)
    try:
        year_text, month_text = value.split("-")
        if len(year_text) != 4 or len(month_text) != 2:
            raise ValueError(value)
        return date(int(year_text), int(month_text), 1)
    except ValueError as exc:
        raise InvalidInput(f"expected a month such as 2026-11, got {value!r}", field="month") from exc


class MoneyController(Controller):
    path = "/api/v1/agreements"
    tags = ["tenants"]

    @post(
        "/{agreement_id:int}/deposit",
        opt=DEPOSIT_WRITE,
        status_code=200,
        summary="Record the deposit received, kept (part or all, with why) or returned",
    )
    async def deposit(
        self, db: Db, identity: Caller, agreement_id: FromPath[int], data: JSONBody[DepositIn]
    ) -> DepositOut:
        agreement = await deposits.record(
            db,
            identity,
            agreement_id,
            action=data.action,
            on=data.on,
            amount_pence=data.amount_pence,
            note=data.note,
            method=data.method,
        )
        return DepositOut(
            agreement_id=agreement.id,
            deposit_pence=agreement.deposit_pence,
            received_on=agreement.deposit_received_on,
            kept_pence=agreement.deposit_kept_pence,
            kept_on=agreement.deposit_kept_on,
            returned_on=agreement.deposit_returned_on,
            held_pence=deposits.held_pence(agreement),
            note=agreement.deposit_note,
        )

    @get(
        "/{agreement_id:int}/allowance",
        opt=ALLOWANCE_READ,
        summary="Meeting-room hours included, used and left in a month (building time)",
    )
    async def allowance(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        agreement_id: FromPath[int],
        month: FromQuery[str | None] = None,
    ) -> AllowanceOut:
        agreement = await agreements_service.get_agreement(db, identity, agreement_id)
        first = parse_month(month, settings.today())
        used = await allowance.usage(db, settings, agreement.organisation_id, first, agreement=agreement)
        return AllowanceOut(
            agreement_id=agreement.id,
            month=f"{first:%Y-%m}",
            included_minutes=used.included_minutes,
            used_minutes=used.used_minutes,
            left_minutes=used.left_minutes,
            over_minutes=used.over_minutes,
        )
