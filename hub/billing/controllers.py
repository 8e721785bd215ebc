"""The money API: /api/v1/charges, /invoices, /payments, /aged-debt, /ledger; /webhooks/stripe.

Staff (admin, receptionist) bill and take payments; trustees read everything and change
nothing; a tenant reads only its own organisation's invoices, payments and statement, and may pay
its invoices online. Writes that move money take an ``Idempotency-Key`` (:mod:`hub.idempotency`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler
from msgspec import Struct

from hub.auth import PUBLIC, STAFF, roles
from hub.billing import rules
from hub.billing.models import (
    ChargeStatus,
    DocumentKind,
    InvoiceStatus,
    LedgerAccount,
    PaymentMethod,
)
from hub.billing.schemas import (
    AgedDebt,
    AllocateRequest,
    CancelRequest,
    ChargeCreate,
    ChargeOut,
    ChargePage,
    CreditNoteCreate,
    InvoiceCreate,
    InvoiceOut,
    InvoicePage,
    LedgerCheck,
    LedgerPage,
    PaymentCreate,
    PaymentOut,
    PaymentPage,
    PayNowOut,
    RefundCreate,
    Statement,
)
from hub.billing.services import charges, debt, invoices, ledger, mailing, payments, refunds, stripe_pay
from hub.deps import Caller, Db, RegistryDep, SettingsDep
from hub.idempotency import IDEMPOTENT, caller_of, once, read_key, remember, replay_if_seen
from hub.models import Role
from hub.schemas import within_calendar

WRITE = roles(STAFF)
# Writes that move money: staff only, and a retry with the same Idempotency-Key is one write.
MONEY_WRITE = {**roles(STAFF), **IDEMPOTENT}
READ = roles(STAFF, Role.TRUSTEE, Role.TENANT)
# Paying an invoice online is a change (a PaymentIntent at Stripe): never a trustee's.
PAY = roles(STAFF, Role.TENANT)
FIGURES = roles(STAFF, Role.TRUSTEE)
LEDGER = roles(Role.ADMIN, Role.TRUSTEE)

Page = Annotated[int, QueryParameter(ge=1, le=100_000)]
PerPage = Annotated[int, QueryParameter(ge=1, le=200)]
OptionalId = Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)]


def _day(value: date | None, field: str) -> date | None:
    return None if value is None else within_calendar(value, field)


class ChargeController(Controller):
    path = "/api/v1/charges"
    tags = ["money"]

    @get("/", opt=READ, summary="Charges (newest supply first); filter by organisation and status")
    async def list_charges(
        self,
        db: Db,
        identity: Caller,
        organisation_id: OptionalId = None,
        status: FromQuery[ChargeStatus | None] = None,
        page: Page = 1,
        per_page: PerPage = 50,
    ) -> ChargePage:
        return await charges.list_charges(
            db,
            identity,
            organisation_id=organisation_id,
            status=status.value if status else None,
            page=page,
            per_page=per_page,
        )

    @post("/", opt=MONEY_WRITE, summary="Add a manual charge (extra cleaning, a lost key)")
    async def create_charge(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        identity: Caller,
        registry: RegistryDep,
        data: JSONBody[ChargeCreate],
    ) -> ChargeOut:
        async def work() -> ChargeOut:
            charge = await charges.create_manual(db, identity, data, registry=registry, commit=False)
            return charges.charge_out(charge)

        return await once(db, request, identity, data, ChargeOut, work)

    @get("/{charge_id:int}", opt=READ, summary="One charge")
    async def get_charge(self, db: Db, identity: Caller, charge_id: FromPath[int]) -> ChargeOut:
        return charges.charge_out(await charges.get_charge(db, identity, charge_id))

    @post("/{charge_id:int}/cancel", opt=WRITE, status_code=200, summary="Cancel an uninvoiced charge")
    async def cancel_charge(
        self, db: Db, identity: Caller, charge_id: FromPath[int], data: JSONBody[CancelRequest]
    ) -> ChargeOut:
        return charges.charge_out(await charges.cancel_charge(db, identity, charge_id, data.reason))


class InvoiceController(Controller):
    path = "/api/v1/invoices"
    tags = ["money"]

    @get("/", opt=READ, summary="Invoices and credit notes; filter by status, organisation, overdue")
    async def list_invoices(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        status: FromQuery[InvoiceStatus | None] = None,
        kind: FromQuery[DocumentKind | None] = None,
        organisation_id: OptionalId = None,
        overdue: FromQuery[bool] = False,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        page: Page = 1,
        per_page: PerPage = 50,
    ) -> InvoicePage:
        return await invoices.list_invoices(
            db,
            settings,
            identity,
            status=status.value if status else None,
            kind=kind.value if kind else None,
            organisation_id=organisation_id,
            overdue=overdue,
            search=(q or "").strip(),
            page=page,
            per_page=per_page,
        )

    @post("/", opt=MONEY_WRITE, summary="Invoice an organisation's open charges (issued unless issue=false)")
    async def create_invoice(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        registry: RegistryDep,
        data: JSONBody[InvoiceCreate],
    ) -> InvoiceOut:
        async def work() -> InvoiceOut:
            invoice = await invoices.create_invoice(
                db, settings, identity, data, registry=registry, commit=False
            )
            return await invoices.invoice_out(db, invoice, settings)

        return await once(db, request, identity, data, InvoiceOut, work)

    @get("/{invoice_id:int}", opt=READ, summary="One invoice or credit note, with its lines")
    async def get_invoice(
        self, db: Db, settings: SettingsDep, identity: Caller, invoice_id: FromPath[int]
    ) -> InvoiceOut:
        invoice = await invoices.get_invoice(db, identity, invoice_id)
        return await invoices.invoice_out(db, invoice, settings)

    @post(
        "/{invoice_id:int}/issue",
        opt=MONEY_WRITE,
        status_code=200,
        summary="Issue a draft (gives it its number)",
    )
    async def issue_invoice(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        invoice_id: FromPath[int],
    ) -> InvoiceOut:
        async def work() -> InvoiceOut:
            invoice = await invoices.issue_invoice(db, settings, identity, invoice_id, commit=False)
            return await invoices.invoice_out(db, invoice, settings)

        return await once(db, request, identity, None, InvoiceOut, work, status_code=200)

    @post("/{invoice_id:int}/void", opt=WRITE, status_code=200, summary="Void a draft (kept; charges freed)")
    async def void_invoice(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        invoice_id: FromPath[int],
        data: JSONBody[CancelRequest],
    ) -> InvoiceOut:
        invoice = await invoices.void_draft(db, identity, invoice_id, data.reason)
        return await invoices.invoice_out(db, invoice, settings)

    @post(
        "/{invoice_id:int}/credit-notes",
        opt=MONEY_WRITE,
        summary="Credit an issued invoice, whole or in part",
    )
    async def credit_invoice(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        invoice_id: FromPath[int],
        data: JSONBody[CreditNoteCreate],
    ) -> InvoiceOut:
        async def work() -> InvoiceOut:
            note = await invoices.create_credit_note(db, settings, identity, invoice_id, data, commit=False)
            return await invoices.invoice_out(db, note, settings)

        return await once(db, request, identity, data, InvoiceOut, work)

    @post(
        "/{invoice_id:int}/pay",
        opt=PAY,
        status_code=200,
        summary="Start paying online: a Stripe PaymentIntent for what is owed (422 without Stripe)",
    )
    async def pay_invoice(
        self, db: Db, settings: SettingsDep, identity: Caller, invoice_id: FromPath[int]
    ) -> PayNowOut:
        return await stripe_pay.pay_now(db, settings, identity, invoice_id)


class PaymentController(Controller):
    path = "/api/v1/payments"
    tags = ["money"]

    @get("/", opt=READ, summary="Payments and refunds; filter by organisation, invoice, dates")
    async def list_payments(
        self,
        db: Db,
        identity: Caller,
        organisation_id: OptionalId = None,
        invoice_id: OptionalId = None,
        since: FromQuery[date | None] = None,
        until: FromQuery[date | None] = None,
        page: Page = 1,
        per_page: PerPage = 50,
    ) -> PaymentPage:
        return await payments.list_payments(
            db,
            identity,
            organisation_id=organisation_id,
            invoice_id=invoice_id,
            since=_day(since, "since"),
            until=_day(until, "until"),
            page=page,
            per_page=per_page,
        )

    @post("/", opt=MONEY_WRITE, summary="Record a payment (BACS, cash, cheque, card) and allocate it")
    async def record_payment(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        data: JSONBody[PaymentCreate],
    ) -> PaymentOut:
        async def work() -> PaymentOut:
            payment = await payments.record_payment(db, settings, identity, data, commit=False)
            return (await payments.payments_out(db, [payment]))[0]

        return await once(db, request, identity, data, PaymentOut, work)

    @get("/{payment_id:int}", opt=READ, summary="One payment with its allocations")
    async def get_payment(self, db: Db, identity: Caller, payment_id: FromPath[int]) -> PaymentOut:
        payment = await payments.get_payment(db, identity, payment_id)
        return (await payments.payments_out(db, [payment]))[0]

    @post("/{payment_id:int}/allocations", opt=MONEY_WRITE, summary="Apply a payment's credit to an invoice")
    async def allocate(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        identity: Caller,
        payment_id: FromPath[int],
        data: JSONBody[AllocateRequest],
    ) -> PaymentOut:
        async def work() -> PaymentOut:
            payment = await payments.allocate_credit(db, identity, payment_id, data, commit=False)
            return (await payments.payments_out(db, [payment]))[0]

        return await once(db, request, identity, data, PaymentOut, work)

    @post("/{payment_id:int}/refund", opt=MONEY_WRITE, summary="Refund (Stripe payments through Stripe)")
    async def refund(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        payment_id: FromPath[int],
        data: JSONBody[RefundCreate],
    ) -> PaymentOut:
        payment = await payments.get_payment(db, identity, payment_id)
        if payment.method != PaymentMethod.STRIPE.value:

            async def work() -> PaymentOut:
                refund = await payments.refund_payment(db, settings, identity, payment_id, data, commit=False)
                return (await payments.payments_out(db, [refund]))[0]

            return await once(db, request, identity, data, PaymentOut, work)
        seen = await replay_if_seen(db, request, identity, data, PaymentOut)
        if seen is not None:
            return seen
        key = read_key(request)
        refund = await refunds.refund(
            db,
            settings,
            identity,
            payment_id,
            data,
            request_key=f"{caller_of(identity)}:{key}" if key else None,
        )
        out = (await payments.payments_out(db, [refund]))[0]
        # A refund through Stripe spans two transactions (Stripe is asked between them), so its
        # answer is kept after the fact; the pending request row keyed by the same
        # Idempotency-Key is what keeps a retry from making a second refund meanwhile.
        await remember(db, request, identity, data, out)
        return out


@get("/api/v1/aged-debt", opt=FIGURES, tags=["money"], summary="Aged debt per organisation")
async def aged_debt(db: Db, settings: SettingsDep, on: FromQuery[date | None] = None) -> AgedDebt:
    return await debt.aged_debt(db, settings, on=_day(on, "on"))


@get(
    "/api/v1/organisations/{organisation_id:int}/statement",
    opt=READ,
    tags=["money"],
    summary="An organisation's statement of account",
)
async def organisation_statement(
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    organisation_id: FromPath[int],
    from_date: Annotated[date | None, QueryParameter(name="from")] = None,
    to_date: Annotated[date | None, QueryParameter(name="to")] = None,
) -> Statement:
    return await debt.statement(
        db,
        settings,
        identity,
        organisation_id,
        from_date=_day(from_date, "from"),
        to_date=_day(to_date, "to"),
    )


class StatementEmailed(Struct):
    """A statement queued in the outbox: the sender delivers it after this answer."""

    message_id: int
    to: str
    from_date: date
    to_date: date


@post(
    "/api/v1/organisations/{organisation_id:int}/statement/email",
    opt=PAY,
    status_code=202,
    tags=["money"],
    summary="Email an organisation's statement of account to its billing contact",
)
async def email_statement(
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    organisation_id: FromPath[int],
    from_date: Annotated[date | None, QueryParameter(name="from")] = None,
    to_date: Annotated[date | None, QueryParameter(name="to")] = None,
) -> StatementEmailed:
    """Staff for any organisation, a tenant for its own (another's answers 404); audited. 422
    (``billing_email``) when the organisation has no address to send it to."""
    statement = await debt.statement(
        db,
        settings,
        identity,
        organisation_id,
        from_date=_day(from_date, "from"),
        to_date=_day(to_date, "to"),
    )
    message = await mailing.queue_statement(db, settings, identity, statement)
    return StatementEmailed(
        message_id=message.id, to=message.to_address, from_date=statement.from_date, to_date=statement.to_date
    )


@get("/api/v1/ledger", opt=LEDGER, tags=["money"], summary="Ledger entries (append-only), newest first")
async def ledger_entries(
    db: Db,
    registry: RegistryDep,
    since: FromQuery[date | None] = None,
    until: FromQuery[date | None] = None,
    account: FromQuery[LedgerAccount | None] = None,
    stream: Annotated[str | None, QueryParameter(max_length=32)] = None,
    organisation_id: OptionalId = None,
    page: Page = 1,
    per_page: PerPage = 100,
) -> LedgerPage:
    return await ledger.list_entries(
        db,
        since=_day(since, "since"),
        until=_day(until, "until"),
        account=account.value if account else None,
        stream=rules.check_stream(registry, stream) if stream is not None else None,
        organisation_id=organisation_id,
        page=page,
        per_page=per_page,
    )


@get("/api/v1/ledger/check", opt=LEDGER, tags=["money"], summary="Reconcile the ledger with the documents")
async def ledger_check(db: Db, settings: SettingsDep, registry: RegistryDep) -> LedgerCheck:
    return await ledger.check(
        db, pending_after=timedelta(minutes=settings.stripe_pending_minutes), registry=registry
    )


@post(
    "/webhooks/stripe",
    opt={**PUBLIC, "csrf_exempt": True},
    status_code=200,
    tags=["money"],
    summary="Stripe's webhook: signed events, each processed once",
)
async def stripe_webhook(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep
) -> Response[dict[str, str]]:
    payload = await request.body()
    event = stripe_pay.verify(settings, payload, request.headers.get("stripe-signature"))
    outcome = await stripe_pay.handle_event(db, settings, event, on_refund=refunds.refund_event)
    return Response({"received": event["id"], "outcome": outcome}, status_code=200)


API_ROUTES: list[ControllerRouterHandler] = [
    ChargeController,
    InvoiceController,
    PaymentController,
    aged_debt,
    organisation_statement,
    email_statement,
    ledger_entries,
    ledger_check,
    stripe_webhook,
]
