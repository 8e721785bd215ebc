"""Stripe, optional: "Pay now" makes a PaymentIntent for what is owed; Stripe's webhook says
when it succeeded; refunds of Stripe payments go through Stripe's Refunds API.

With no ``HUB_STRIPE_SECRET_KEY`` none of this is reachable and everything works with manual
payments. The SDK is synchronous, so its calls run in a worker thread, never on the event loop.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import anyio
import stripe
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.billing import rules
from hub.billing.models import Invoice, Payment, PaymentMethod, StripeEvent, StripeIntent
from hub.billing.schemas import PaymentCreate, PayNowOut
from hub.billing.services import payments
from hub.billing.services.invoices import get_invoice
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


class StripeNoAnswer(UpstreamError):
    """Stripe did not answer (timeout, connection lost, or its own 5xx): whether it acted is not
    known. What was asked stays pending here, and asking again with the same idempotency key —
    a retry, or ``hubkeeper stripe reconcile`` — settles it."""


def client(settings: Settings) -> stripe.StripeClient:
    if settings.stripe_secret_key is None:
        raise RuleViolation(
            "online payment is not set up here; pay by bank transfer instead", field="invoice_id"
        )
    base = {"api": settings.stripe_api_base} if settings.stripe_api_base else None
    return stripe.StripeClient(
        settings.stripe_secret_key,
        base_addresses=base or {},  # type: ignore[arg-type]
        # One try, a short timeout: the person at the screen gets an answer in seconds, and the
        # idempotency key makes asking again safe.
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=settings.stripe_timeout_seconds),
    )


async def _call(settings: Settings, function: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the (synchronous) SDK in a worker thread, never inside a database transaction.

    Gives up after the configured timeout even if the socket does not (a server that trickles
    bytes): the thread is abandoned, and it holds no lock of ours.
    """

    def run() -> Any:
        return function(*args, **kwargs)

    limit = settings.stripe_timeout_seconds
    try:
        with anyio.fail_after(limit + 1):
            return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
    except TimeoutError as exc:
        raise StripeNoAnswer(f"Stripe: no answer within {limit:g} seconds") from exc
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        if "timeout" in str(exc).lower() or "timed out" in str(exc).lower():
            raise StripeNoAnswer(f"Stripe: no answer within {limit:g} seconds") from exc
        raise StripeNoAnswer(f"Stripe: could not be reached ({_message(exc)})") from exc
    except stripe.StripeError as exc:
        if exc.http_status is None or exc.http_status >= 500:
            raise StripeNoAnswer(f"Stripe: {_message(exc)}") from exc
        raise UpstreamError(f"Stripe: {_message(exc)}") from exc


def _message(exc: stripe.StripeError) -> str:
    return getattr(exc, "user_message", None) or str(exc) or "Stripe refused the request"


OPEN_INTENT = ("pending", "created", "requires_payment_method", "requires_confirmation")


async def _open_attempt(db: AsyncSession, invoice_id: int, amount: int) -> StripeIntent | None:
    found: StripeIntent | None = await db.scalar(
        select(StripeIntent)
        .where(
            StripeIntent.invoice_id == invoice_id,
            StripeIntent.amount_pence == amount,
            StripeIntent.status.in_(OPEN_INTENT),
        )
        .order_by(StripeIntent.id.desc())
        .limit(1)
    )
    return found


async def _wait_for_answer(db: AsyncSession, settings: Settings, attempt_id: int) -> str | None:
    """Another click is asking Stripe for this very intent: wait (briefly, outside any write
    lock) for its answer rather than ask again. Answers the intent id once it is recorded."""
    deadline = anyio.current_time() + settings.stripe_timeout_seconds + 2
    while anyio.current_time() < deadline:
        await anyio.sleep(0.1)
        row = (
            await db.execute(
                select(StripeIntent.intent_id, StripeIntent.status).where(StripeIntent.id == attempt_id)
            )
        ).first()
        await db.rollback()
        if row is None or row[0] is not None:
            return None if row is None else str(row[0])
        if row[1] not in OPEN_INTENT:
            return None
    return None


async def pay_now(db: AsyncSession, settings: Settings, viewer: Identity, invoice_id: int) -> PayNowOut:
    """A PaymentIntent for what is owed now, in three steps so that no database lock is held
    while Stripe is asked: (1) record the attempt, with its own idempotency key, and commit;
    (2) ask Stripe, with a short timeout; (3) record Stripe's answer. Asking again for the same
    amount reuses the open attempt (and so the same intent)."""
    stripe_client = client(settings)
    # 1. Under the invoice's lock: what is owed, and the attempt that will pay it.
    invoice = await get_invoice(db, viewer, invoice_id, lock=True)
    if not rules.is_payable(invoice.kind, invoice.status, invoice.outstanding_pence):
        raise RuleViolation(payments._why_not_payable(invoice), field="invoice_id")
    amount = invoice.outstanding_pence
    attempt = await _open_attempt(db, invoice.id, amount)
    in_flight = attempt is not None and attempt.intent_id is None
    if attempt is None:
        attempt = StripeIntent(
            invoice_id=invoice.id,
            intent_id=None,
            idempotency_key=f"hub-pay-{uuid.uuid4().hex}",
            amount_pence=amount,
            status="pending",
            last_error="",
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        db.add(attempt)
        await db.flush()
        audit.record(
            db,
            viewer,
            "invoice.pay_started",
            "invoice",
            invoice.id,
            summary=f"Online payment of {format_pence(amount)} started for {invoice.number_text}",
            changes={"stripe_attempt": [None, attempt.id]},
        )
    attempt_id, key, known_intent = attempt.id, attempt.idempotency_key, attempt.intent_id
    number, organisation_id = invoice.number_text or "", invoice.organisation_id
    recent = attempt.created_at > utcnow() - timedelta(seconds=settings.stripe_timeout_seconds + 2)
    await db.commit()  # the lock is released before Stripe is called

    # 2. Ask Stripe, outside any transaction.
    if in_flight and recent:
        known_intent = await _wait_for_answer(db, settings, attempt_id)
    if known_intent is not None:
        intent = await _call(settings, stripe_client.v1.payment_intents.retrieve, known_intent)
    else:
        try:
            intent = await _call(
                settings,
                stripe_client.v1.payment_intents.create,
                intent_params(invoice_id, number, organisation_id, amount, attempt_id),
                {"idempotency_key": key or f"hub-pay-attempt-{attempt_id}"},
            )
        except StripeNoAnswer:
            raise  # stays pending: the reconciler (or the next click) asks again with the same key
        except UpstreamError as exc:
            await attempt_failed(db, attempt_id, exc.detail)
            raise
        # 3. Record the answer.
        intent_id = await record_intent(db, attempt_id, str(intent.id))
        if intent_id != intent.id:
            # A simultaneous click recorded another intent first (only a Stripe that ignores
            # idempotency keys makes two): offer the recorded one, so there is one to pay.
            intent = await _call(settings, stripe_client.v1.payment_intents.retrieve, intent_id)
    return PayNowOut(
        payment_intent_id=intent.id,
        client_secret=intent.client_secret,
        amount_pence=amount,
        currency=CURRENCY,
        publishable_key=settings.stripe_publishable_key,
    )


def intent_params(
    invoice_id: int, number: str, organisation_id: int, amount: int, attempt_id: int
) -> dict[str, Any]:
    """What a PaymentIntent is asked for; the same for a retry, as Stripe's idempotency wants."""
    return {
        "amount": amount,
        "currency": CURRENCY,
        "payment_method_types": ["card"],
        "metadata": {
            "invoice_id": str(invoice_id),
            "invoice_number": number,
            "organisation_id": str(organisation_id),
            "hub_attempt_id": str(attempt_id),
        },
    }


async def record_intent(db: AsyncSession, attempt_id: int, intent_id: str) -> str:
    """Record Stripe's intent on a pending attempt (once); answers the intent id on record."""
    attempt = await db.scalar(
        select(StripeIntent)
        .where(StripeIntent.id == attempt_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if attempt is None:
        raise NotFound("That payment attempt was not found.")
    if attempt.intent_id is None:
        attempt.intent_id = intent_id
        attempt.status = "created"
        attempt.updated_at = utcnow()
        try:
            await db.commit()
        except IntegrityError:
            await db.rollback()
            return intent_id
        return intent_id
    recorded = attempt.intent_id
    await db.commit()
    return recorded


async def attempt_failed(db: AsyncSession, attempt_id: int, message: str) -> None:
    attempt = await db.scalar(
        select(StripeIntent)
        .where(StripeIntent.id == attempt_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if attempt is not None and attempt.intent_id is None:
        attempt.status = "failed"
        attempt.last_error = message[:1000]
        attempt.updated_at = utcnow()
    await db.commit()


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


# Settles refund events; set by hub.billing.services.refunds, which builds on this module.
RefundHandler = Callable[[AsyncSession, Settings, dict[str, Any]], Awaitable[str]]


async def handle_event(
    db: AsyncSession, settings: Settings, event: dict[str, Any], *, on_refund: RefundHandler | None = None
) -> str:
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
    elif event_type in ("refund.created", "refund.updated") and on_refund and isinstance(data, dict):
        outcome = await on_refund(db, settings, data)
    elif event_type == "charge.refunded" and on_refund and isinstance(data, dict):
        refunds = data.get("refunds")
        listed = refunds.get("data") if isinstance(refunds, dict) else None
        outcomes = [
            await on_refund(db, settings, {"payment_intent": data.get("payment_intent"), **item})
            for item in (listed or [])
            if isinstance(item, dict)
        ]
        outcome = "; ".join(outcomes) if outcomes else "ignored"
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
        invoice = await db.scalar(
            select(Invoice)
            .where(Invoice.id == int(invoice_id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
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
    if rules.is_open(invoice.kind, invoice.status):
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
            received_on=settings.today(),
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
