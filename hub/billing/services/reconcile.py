"""Settle what a crash or a timeout left pending between the hub and Stripe.

Run by ``hubkeeper stripe reconcile`` (also when ``hubkeeper serve`` starts; schedule it every
few minutes with cron or a systemd timer). Each pending item is asked of Stripe again with its own
idempotency key — Stripe answers a repeated request with the first one's result — or looked up,
and the answer is recorded exactly as the API would have recorded it. Nothing here holds a
database lock while Stripe is asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.billing.models import Invoice, Payment, RefundStatus, StripeIntent, StripeRefund
from hub.billing.services import refunds, stripe_pay
from hub.config import Settings
from hub.db import utcnow
from hub.errors import UpstreamError

# Stripe keeps idempotency keys for 24 hours; past that a repeat would be a new request.
KEY_LIFETIME = timedelta(hours=23)


@dataclass
class Reconciled:
    settled: list[str] = field(default_factory=list)
    still_pending: list[str] = field(default_factory=list)


async def reconcile(
    db: AsyncSession, settings: Settings, *, older_than: timedelta = timedelta(0)
) -> Reconciled:
    """Settle every pending Pay now attempt and refund request older than ``older_than``."""
    report = Reconciled()
    if settings.stripe_secret_key is None:
        return report
    client = stripe_pay.client(settings)
    cutoff = utcnow() - older_than
    attempts = list(
        await db.scalars(
            select(StripeIntent).where(
                StripeIntent.status == "pending",
                StripeIntent.intent_id.is_(None),
                StripeIntent.created_at <= cutoff,
            )
        )
    )
    requests = list(
        await db.scalars(
            select(StripeRefund).where(
                StripeRefund.status == RefundStatus.PENDING.value, StripeRefund.created_at <= cutoff
            )
        )
    )
    await db.commit()
    for attempt in attempts:
        name = f"Pay now attempt {attempt.id}"
        if attempt.created_at < utcnow() - KEY_LIFETIME:
            # Its client secret never reached anyone, so nobody can have paid it.
            await stripe_pay.attempt_failed(db, attempt.id, "abandoned: Stripe never answered")
            report.settled.append(f"{name}: abandoned")
            continue
        invoice = await db.get(Invoice, attempt.invoice_id)
        assert invoice is not None
        params = stripe_pay.intent_params(
            invoice.id, invoice.number_text or "", invoice.organisation_id, attempt.amount_pence, attempt.id
        )
        await db.commit()
        try:
            intent = await stripe_pay._call(
                settings,
                client.v1.payment_intents.create,
                params,
                {"idempotency_key": attempt.idempotency_key or f"hub-pay-attempt-{attempt.id}"},
            )
        except stripe_pay.StripeNoAnswer as exc:
            report.still_pending.append(f"{name}: {exc.detail}")
            continue
        except UpstreamError as exc:
            await stripe_pay.attempt_failed(db, attempt.id, exc.detail)
            report.settled.append(f"{name}: failed ({exc.detail})")
            continue
        recorded = await stripe_pay.record_intent(db, attempt.id, str(intent.id))
        report.settled.append(f"{name}: intent {recorded}")
    for request in requests:
        name = f"refund request {request.id}"
        try:
            if request.stripe_refund_id is not None:
                answer = await stripe_pay._call(
                    settings, client.v1.refunds.retrieve, request.stripe_refund_id
                )
                status = await refunds.settle(db, settings, request.id, status=str(answer.status))
            elif request.created_at >= utcnow() - KEY_LIFETIME:
                await refunds.drive(db, settings, request.id, stripe_client=client)
                status = RefundStatus.SUCCEEDED.value
            else:
                status = await _look_up(db, settings, client, request)
        except stripe_pay.StripeNoAnswer as exc:
            report.still_pending.append(f"{name}: {exc.detail}")
            continue
        except UpstreamError as exc:
            report.settled.append(f"{name}: failed ({exc.detail})")
            continue
        (report.settled if status != RefundStatus.PENDING.value else report.still_pending).append(
            f"{name}: {status}"
        )
    return report


async def _look_up(db: AsyncSession, settings: Settings, client: object, request: StripeRefund) -> str:
    """Too old to repeat: find the refund among the payment's refunds at Stripe by our id."""
    payment = await db.get(Payment, request.payment_id)
    assert payment is not None
    intent_id, request_id = payment.stripe_payment_intent_id, request.id
    await db.commit()
    listed = await stripe_pay._call(
        settings,
        client.v1.refunds.list,  # type: ignore[attr-defined]
        {"payment_intent": intent_id, "limit": 100},
    )
    for item in listed.data:
        metadata = item.metadata.to_dict() if item.metadata is not None else {}
        if metadata.get("hub_refund_id") == str(request_id):
            return await refunds.settle(
                db, settings, request_id, status=str(item.status), stripe_refund_id=str(item.id)
            )
    return await refunds.settle(
        db, settings, request_id, status="failed", error="Stripe has no record of this refund"
    )
