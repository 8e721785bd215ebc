"""Refunds: by hand in one transaction, or through Stripe in three steps that survive faults.

A Stripe refund is never asked of Stripe inside a database transaction:

1. the request is checked under the payment's lock and recorded as a pending
   :class:`StripeRefund` with its own idempotency key (never derived from amounts), and committed;
2. Stripe is asked, outside any transaction, with a short timeout and that key;
3. Stripe's answer is recorded: the negative payment once Stripe says the refund succeeded.

A crash or timeout between the steps leaves the pending row, which the pending amount keeps from
being refunded twice, and which ``hubkeeper stripe reconcile`` or Stripe's refund webhook
settles. A retry carrying the same ``Idempotency-Key`` finds the same row and so the same refund
at Stripe: one refund, however often it is asked.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.billing.models import (
    Invoice,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    RefundStatus,
    StripeRefund,
)
from hub.billing.schemas import RefundCreate
from hub.billing.services import payments, stripe_pay
from hub.config import Settings
from hub.db import utcnow
from hub.errors import NotFound, RuleViolation, UpstreamError
from hub.money import format_pence
from hub.services import audit


async def refund(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    payment_id: int,
    data: RefundCreate,
    *,
    request_key: str | None = None,
) -> Payment:
    """Pay money back: by hand, or through Stripe for a Stripe payment. Commits.

    ``request_key`` (the caller's Idempotency-Key, scoped to the caller) makes a retry of the
    same request drive the same Stripe refund instead of asking for a second one.
    """
    payment = await payments.get_payment(db, actor, payment_id, lock=True)
    if payment.method != PaymentMethod.STRIPE.value:
        await db.rollback()
        return await payments.refund_payment(db, settings, actor, payment_id, data)
    stripe_client = stripe_pay.client(settings) if settings.stripe_secret_key else None
    if stripe_client is None:
        raise RuleViolation(
            "this was paid through Stripe, which is not configured here, so it cannot be refunded",
            field="payment_id",
        )
    # 1. Check and record the request (or find the one this retry repeats).
    request = None
    if request_key is not None:
        request = await db.scalar(select(StripeRefund).where(StripeRefund.request_key == request_key))
    if request is None:
        invoice = await payments.check_refund(db, payment, data)
        request = StripeRefund(
            payment_id=payment.id,
            invoice_id=invoice.id if invoice else None,
            amount_pence=data.amount_pence,
            reason=data.reason.strip(),
            idempotency_key=f"hub-refund-{uuid.uuid4().hex}",
            request_key=request_key,
            status=RefundStatus.PENDING.value,
            last_error="",
            requested_by_id=actor.user_id,
            requested_by_label=actor.label,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        db.add(request)
        try:
            await db.flush()
        except IntegrityError:
            # The same request (same Idempotency-Key) arrived at the same moment and won.
            await db.rollback()
            twin = await db.scalar(select(StripeRefund.id).where(StripeRefund.request_key == request_key))
            if twin is None:
                raise
            await db.commit()
            return await drive(db, settings, twin, stripe_client=stripe_client)
        audit.record(
            db,
            actor,
            "payment.refund_requested",
            "payment",
            payment.id,
            summary=f"Refund of {format_pence(data.amount_pence)} of payment {payment.id} asked of Stripe",
            changes={"stripe_refund_request": [None, request.id]},
            reason=request.reason,
        )
    request_id = request.id
    await db.commit()  # the payment's lock is released before Stripe is asked
    return await drive(db, settings, request_id, stripe_client=stripe_client)


async def drive(
    db: AsyncSession, settings: Settings, request_id: int, *, stripe_client: Any | None = None
) -> Payment:
    """Take a refund request as far as it goes: ask Stripe (same key) if it is still pending,
    record the answer, and answer the recorded refund — or the problem that stopped it."""
    request = await db.get(StripeRefund, request_id, populate_existing=True)
    if request is None:
        raise NotFound("That refund request was not found.")
    if request.status == RefundStatus.PENDING.value:
        payment = await db.get(Payment, request.payment_id)
        assert payment is not None and payment.stripe_payment_intent_id is not None
        amount, key, intent_id = (
            request.amount_pence,
            request.idempotency_key,
            payment.stripe_payment_intent_id,
        )
        await db.commit()
        stripe_client = stripe_client or stripe_pay.client(settings)
        try:
            answer = await stripe_pay._call(
                settings,
                stripe_client.v1.refunds.create,
                {
                    "payment_intent": intent_id,
                    "amount": amount,
                    "metadata": {"payment_id": str(request.payment_id), "hub_refund_id": str(request_id)},
                },
                {"idempotency_key": key},
            )
        except stripe_pay.StripeNoAnswer as exc:
            raise stripe_pay.StripeNoAnswer(
                f"{exc.detail}. The refund is recorded as pending and is settled when Stripe answers "
                "(ask again with the same Idempotency-Key, or run `hubkeeper stripe reconcile`)."
            ) from exc
        except UpstreamError as exc:
            await settle(db, settings, request_id, status="failed", error=exc.detail)
            raise
        await settle(db, settings, request_id, status=str(answer.status), stripe_refund_id=str(answer.id))
        request = await db.get(StripeRefund, request_id, populate_existing=True)
        assert request is not None
    if request.status == RefundStatus.FAILED.value:
        detail = request.last_error or "Stripe did not make this refund"
        await db.rollback()
        raise UpstreamError(detail if detail.startswith("Stripe") else f"Stripe: {detail}")
    if request.status == RefundStatus.PENDING.value:
        await db.rollback()
        raise stripe_pay.StripeNoAnswer(
            "Stripe: the refund is accepted but not finished yet; it is recorded when Stripe says so"
        )
    recorded = await db.get(Payment, request.refund_payment_id)
    assert recorded is not None
    return recorded


async def settle(
    db: AsyncSession,
    settings: Settings,
    request_id: int,
    *,
    status: str,
    stripe_refund_id: str | None = None,
    error: str = "",
    commit: bool = True,
) -> str:
    """Record what Stripe says became of a refund request — once, whoever says it first (the
    API call's answer, the reconciler, a webhook). Answers the request's status."""
    request = await db.scalar(
        select(StripeRefund)
        .where(StripeRefund.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if request is None:
        raise NotFound("That refund request was not found.")
    if request.status != RefundStatus.PENDING.value:
        if commit:
            await db.commit()
        return request.status
    if stripe_refund_id and request.stripe_refund_id is None:
        request.stripe_refund_id = stripe_refund_id
    request.updated_at = utcnow()
    actor = Identity(
        user_id=request.requested_by_id,
        email=request.requested_by_label or "stripe",
        name=request.requested_by_label or "Stripe",
        role=stripe_pay.WEBHOOK_ACTOR.role,
        via="system",
    )
    if status == "succeeded":
        payment = await db.scalar(
            select(Payment)
            .where(Payment.id == request.payment_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert payment is not None
        invoice = None
        if request.invoice_id is not None:
            invoice = await db.scalar(
                select(Invoice)
                .where(Invoice.id == request.invoice_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        recorded = await payments.record_refund(
            db,
            settings,
            actor,
            payment,
            invoice,
            request.amount_pence,
            request.reason,
            stripe_refund_id=request.stripe_refund_id,
        )
        request.status = RefundStatus.SUCCEEDED.value
        request.refund_payment_id = recorded.id
    elif status in ("failed", "canceled"):
        request.status = RefundStatus.FAILED.value
        request.last_error = (error or f"Stripe reports the refund {status}")[:1000]
        audit.record(
            db,
            actor,
            "payment.refund_failed",
            "payment",
            request.payment_id,
            summary=f"Refund of {format_pence(request.amount_pence)} not made: {request.last_error}"[:300],
            reason=request.last_error,
        )
    # Any other status ("pending", "requires_action"): Stripe has it; it stays pending here.
    if commit:
        await db.commit()
    return request.status


async def refund_event(db: AsyncSession, settings: Settings, refund_object: dict[str, Any]) -> str:
    """Stripe says what became of a refund (``refund.created``/``refund.updated``, or one of
    the refunds listed in ``charge.refunded``). No commit: the event id is stored with it."""
    refund_id = str(refund_object.get("id") or "")
    status = str(refund_object.get("status") or "")
    metadata = refund_object.get("metadata") or {}
    hub_id = metadata.get("hub_refund_id") if isinstance(metadata, dict) else None
    request = None
    if refund_id:
        request = await db.scalar(select(StripeRefund).where(StripeRefund.stripe_refund_id == refund_id))
    if request is None and isinstance(hub_id, str) and hub_id.isdigit() and len(hub_id) < 19:
        request = await db.get(StripeRefund, int(hub_id))
    if request is not None:
        now = await settle(
            db, settings, request.id, status=status, stripe_refund_id=refund_id or None, commit=False
        )
        return f"refund request {request.id} is {now}"
    if status != "succeeded":
        return f"refund {refund_id} is {status or 'of unknown status'}; nothing to record yet"
    return await record_stripe_side_refund(db, settings, refund_object)


async def record_stripe_side_refund(
    db: AsyncSession, settings: Settings, refund_object: dict[str, Any]
) -> str:
    """A refund Stripe reports (webhook) that the hub never asked for — made in Stripe's
    dashboard — is recorded against the Stripe payment: from its credit first, then from what
    it paid on invoices (newest first). No commit."""
    refund_id = str(refund_object.get("id") or "")
    intent_id = refund_object.get("payment_intent")
    amount = refund_object.get("amount")
    if not isinstance(amount, int) or amount <= 0 or not isinstance(intent_id, str):
        return f"unusable refund {refund_id}"
    if await db.scalar(select(Payment.id).where(Payment.stripe_refund_id == refund_id)):
        return f"refund {refund_id} already recorded"
    payment = await db.scalar(
        select(Payment)
        .where(Payment.stripe_payment_intent_id == intent_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if payment is None:
        return f"no payment for {intent_id}"
    left = payment.amount_pence - await payments.refunded_so_far(db, payment)
    take = min(amount, left)
    if take <= 0:
        return f"nothing left of payment {payment.id} to refund"
    reason = f"Refunded at Stripe ({refund_id})"
    actor = stripe_pay.WEBHOOK_ACTOR
    recorded = []
    from_credit = min(take, await payments.unallocated(db, payment))
    if from_credit > 0:
        recorded.append(
            await payments.record_refund(
                db, settings, actor, payment, None, from_credit, reason, stripe_refund_id=refund_id
            )
        )
    rest = take - from_credit
    if rest > 0:
        rows = (
            await db.execute(
                select(PaymentAllocation.invoice_id)
                .where(PaymentAllocation.payment_id == payment.id)
                .group_by(PaymentAllocation.invoice_id)
                .order_by(PaymentAllocation.invoice_id.desc())
            )
        ).all()
        for (invoice_id,) in rows:
            if rest <= 0:
                break
            on_invoice = await payments.unallocated(db, payment, invoice_id=invoice_id)
            part = min(rest, on_invoice)
            if part <= 0:
                continue
            invoice = await db.scalar(
                select(Invoice)
                .where(Invoice.id == invoice_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            recorded.append(
                await payments.record_refund(
                    db,
                    settings,
                    actor,
                    payment,
                    invoice,
                    part,
                    reason,
                    # One Stripe refund may become two of ours (credit, then an invoice): the id
                    # is unique, so only the first carries it.
                    stripe_refund_id=None if recorded else refund_id,
                )
            )
            rest -= part
    return f"refund {refund_id} of {format_pence(take)} recorded from Stripe"
