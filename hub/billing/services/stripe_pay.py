"""Stripe, optional: "Pay now" makes a PaymentIntent for what is owed; Stripe's webhook says
when it succeeded; refunds of Stripe payments go through Stripe's Refunds API.

With no ``HUB_STRIPE_SECRET_KEY`` none of this is reachable and everything works with manual
payments. The SDK is synchronous, so its calls run in a worker thread, never on the event loop.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import stripe
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.billing.models import DocumentKind, Invoice, Payment, PaymentMethod, StripeEvent, StripeIntent
from hub.billing.schemas import PaymentCreate, PayNowOut
from hub.billing.services import payments
from hub.billing.services.invoices import get_invoice, today
from hub.config import Settings
from hub.db import utcnow
from hub.errors import InvalidInput, MalformedInput, NotFound, RuleViolation, UpstreamError
from hub.models import Role
from hub.money import format_pence
from hub.services import audit

CURRENCY = "gbp"
# How old a webhook's signed timestamp may be (seconds): replayed old deliveries are refused.
SIGNATURE_TOLERANCE = 300

WEBHOOK_ACTOR = Identity(user_id=None, email="stripe-webhook", name="Stripe", role=Role.ADMIN, via="system")


def client(settings: Settings) -> stripe.StripeClient:
    if settings.stripe_secret_key is None:
        raise RuleViolation(
            "online payment is not set up here; pay by bank transfer instead", field="invoice_id"
        )
    base = {"api": settings.stripe_api_base} if settings.stripe_api_base else None
    return stripe.StripeClient(
        settings.stripe_secret_key,
        base_addresses=base or {},  # type: ignore[arg-type]
        max_network_retries=1,
    )


async def _call(function: Any, *args: Any, **kwargs: Any) -> Any:
    def run() -> Any:
        return function(*args, **kwargs)

    try:
        return await anyio.to_thread.run_sync(run)
    except stripe.StripeError as exc:
        message = getattr(exc, "user_message", None) or str(exc) or "Stripe refused the request"
        raise UpstreamError(f"Stripe: {message}") from exc


async def pay_now(db: AsyncSession, settings: Settings, viewer: Identity, invoice_id: int) -> PayNowOut:
    """A PaymentIntent for what is owed now. Asking again for the same amount reuses the open
    intent, and the idempotency key makes a double click one intent at Stripe too."""
    stripe_client = client(settings)
    # Locked: simultaneous "Pay now" clicks for one invoice queue here and share one intent.
    invoice = await get_invoice(db, viewer, invoice_id, lock=True)
    if invoice.kind != DocumentKind.INVOICE.value or invoice.outstanding_pence <= 0:
        raise RuleViolation(payments._why_not_payable(invoice), field="invoice_id")
    if invoice.status not in payments.PAYABLE:
        raise RuleViolation(payments._why_not_payable(invoice), field="invoice_id")
    amount = invoice.outstanding_pence
    existing = await db.scalar(
        select(StripeIntent).where(
            StripeIntent.invoice_id == invoice.id,
            StripeIntent.amount_pence == amount,
            StripeIntent.status.in_(["requires_payment_method", "requires_confirmation", "created"]),
        )
    )
    if existing is not None:
        intent = await _call(stripe_client.v1.payment_intents.retrieve, existing.intent_id)
    else:
        attempts = await db.scalar(
            select(func.count()).select_from(StripeIntent).where(StripeIntent.invoice_id == invoice.id)
        )
        intent = await _call(
            stripe_client.v1.payment_intents.create,
            {
                "amount": amount,
                "currency": CURRENCY,
                "payment_method_types": ["card"],
                "metadata": {
                    "invoice_id": str(invoice.id),
                    "invoice_number": invoice.number_text or "",
                    "organisation_id": str(invoice.organisation_id),
                },
            },
            {"idempotency_key": f"hub-invoice-{invoice.id}-{amount}-{attempts}"},
        )
        db.add(
            StripeIntent(
                invoice_id=invoice.id,
                intent_id=intent.id,
                amount_pence=amount,
                status="created",
                last_error="",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
        audit.record(
            db,
            viewer,
            "invoice.pay_started",
            "invoice",
            invoice.id,
            summary=f"Online payment of {format_pence(amount)} started for {invoice.number_text}",
            changes={"payment_intent": [None, intent.id]},
        )
        try:
            await db.commit()
        except IntegrityError:
            # A double click raced us to the same intent (same idempotency key): it is recorded.
            await db.rollback()
    return PayNowOut(
        payment_intent_id=intent.id,
        client_secret=intent.client_secret,
        amount_pence=amount,
        currency=CURRENCY,
        publishable_key=settings.stripe_publishable_key,
    )


def stripe_refunder(settings: Settings) -> payments.StripeRefunder | None:
    if settings.stripe_secret_key is None:
        return None
    stripe_client = client(settings)

    async def refund(payment: Payment, amount_pence: int, refunded_pence: int) -> str:
        if payment.stripe_payment_intent_id is None:
            raise RuleViolation("this payment has no Stripe payment to refund", field="payment_id")
        refunded = await _call(
            stripe_client.v1.refunds.create,
            {
                "payment_intent": payment.stripe_payment_intent_id,
                "amount": amount_pence,
                "metadata": {"payment_id": str(payment.id)},
            },
            # The same refund asked for again (say, after our commit failed) is the same refund at
            # Stripe; a further refund follows a recorded one, so its key differs.
            {"idempotency_key": f"hub-refund-{payment.id}-after-{refunded_pence}-{amount_pence}"},
        )
        return str(refunded.id)

    return refund


def verify(settings: Settings, payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event, if Stripe signed it with our secret within the tolerance; else a 400."""
    if settings.stripe_webhook_secret is None:
        raise NotFound("Stripe webhooks are not set up here (HUB_STRIPE_WEBHOOK_SECRET is not set).")
    if not signature:
        raise MalformedInput("the Stripe-Signature header is missing", field="Stripe-Signature")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            text, signature, settings.stripe_webhook_secret, SIGNATURE_TOLERANCE
        )
    except stripe.SignatureVerificationError as exc:
        raise MalformedInput(f"the signature does not verify: {exc}", field="Stripe-Signature") from exc
    except UnicodeDecodeError as exc:
        raise MalformedInput("the body is not UTF-8 text", field="body") from exc
    try:
        event = json.loads(text)
    except ValueError as exc:
        raise MalformedInput("the body is not JSON", field="body") from exc
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
    ):
        raise InvalidInput("an event needs an id and a type", field="body")
    return event


async def handle_event(db: AsyncSession, settings: Settings, event: dict[str, Any]) -> str:
    """Process a verified event once. Answers what happened: "processed", "duplicate" or "ignored".

    The event id is stored in the same transaction as its effect, so a redelivery — even one
    arriving at the same moment — finds it and changes nothing.
    """
    event_id, event_type = event["id"], event["type"]
    if await db.get(StripeEvent, event_id) is not None:
        return "duplicate"
    data = event.get("data", {}).get("object", {}) if isinstance(event.get("data"), dict) else {}
    outcome = "ignored"
    if event_type == "payment_intent.succeeded" and isinstance(data, dict):
        outcome = await _succeeded(db, settings, data)
    elif event_type == "payment_intent.payment_failed" and isinstance(data, dict):
        outcome = await _failed(db, data)
    db.add(StripeEvent(event_id=event_id, type=event_type[:100], received_at=utcnow(), outcome=outcome))
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        return "duplicate"
    return "ignored" if outcome == "ignored" else "processed"


async def _intent_and_invoice(
    db: AsyncSession, data: dict[str, Any]
) -> tuple[StripeIntent | None, Invoice | None]:
    intent_id = data.get("id")
    intent = (
        await db.scalar(select(StripeIntent).where(StripeIntent.intent_id == intent_id))
        if intent_id
        else None
    )
    invoice_id: Any = intent.invoice_id if intent else (data.get("metadata") or {}).get("invoice_id")
    invoice = None
    if invoice_id is not None and str(invoice_id).isdigit() and len(str(invoice_id)) < 19:
        invoice = await db.scalar(select(Invoice).where(Invoice.id == int(invoice_id)).with_for_update())
    return intent, invoice


async def _succeeded(db: AsyncSession, settings: Settings, data: dict[str, Any]) -> str:
    intent, invoice = await _intent_and_invoice(db, data)
    intent_id = str(data.get("id", ""))
    if invoice is None:
        return f"no invoice for {intent_id}"
    if await db.scalar(select(Payment.id).where(Payment.stripe_payment_intent_id == intent_id)):
        return f"payment for {intent_id} already recorded"
    amount = data.get("amount_received") or data.get("amount")
    if not isinstance(amount, int) or amount <= 0 or data.get("currency", CURRENCY) != CURRENCY:
        return f"unusable amount or currency in {intent_id}"
    allocations = None
    if invoice.kind == DocumentKind.INVOICE.value and invoice.status in payments.PAYABLE:
        take = min(amount, invoice.outstanding_pence)
        allocations = [{"invoice_id": invoice.id, "amount_pence": take}] if take > 0 else None
    payment = await payments.record_payment(
        db,
        settings,
        WEBHOOK_ACTOR,
        PaymentCreate(
            organisation_id=invoice.organisation_id,
            method=PaymentMethod.STRIPE,
            amount_pence=amount,
            received_on=today(settings),
            reference=intent_id[:200],
            note=f"Paid online for {invoice.number_text}",
            allocations=None,
            auto_allocate=False,
        ),
        stripe_payment_intent_id=intent_id,
        commit=False,
    )
    if allocations:
        db.add(payments.allocate(payment, invoice, allocations[0]["amount_pence"], WEBHOOK_ACTOR))
    if intent is not None:
        intent.status = "succeeded"
        intent.updated_at = utcnow()
    return f"payment {payment.id} recorded for {invoice.number_text}"


async def _failed(db: AsyncSession, data: dict[str, Any]) -> str:
    intent, invoice = await _intent_and_invoice(db, data)
    error = data.get("last_payment_error") or {}
    message = str(error.get("message", "payment failed")) if isinstance(error, dict) else "payment failed"
    if intent is not None and intent.status == "succeeded":
        # Stripe does not promise order: a failure reported after the success changes nothing.
        return f"failure after success ignored: {message}"[:1000]
    if intent is not None:
        intent.status = "requires_payment_method"
        intent.last_error = message[:1000]
        intent.updated_at = utcnow()
    if invoice is not None:
        audit.record(
            db,
            WEBHOOK_ACTOR,
            "invoice.payment_failed",
            "invoice",
            invoice.id,
            summary=f"Online payment for {invoice.number_text} failed: {message}"[:300],
            reason=message,
        )
    return f"failure recorded: {message}"[:1000]
