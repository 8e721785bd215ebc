"""The messages money sends: an invoice or credit note when it is issued (its PDF attached) and a
statement when someone asks for one. Each is queued in the transaction of the event that causes
it (:func:`hub.mail.enqueue`), so the message exists exactly when the change committed; the
sender delivers it after commit.

Who receives it (the organisation's billing contact): the billing email copied onto the document
at issue (``Organisation.billing_email`` on that day); failing that, the organisation's first
contact, in the order the organisation lists them, that has an email address. An organisation
with neither gets no message (the invoice page says so). Changes made by the demo seed queue
nothing: the demo hub has nobody to write to.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import mail
from hub.auth import Identity
from hub.billing.models import DocumentKind, Invoice
from hub.billing.printing import invoice_pdf
from hub.billing.schemas import InvoiceOut, Statement
from hub.config import Settings
from hub.errors import RuleViolation
from hub.mail import Attachment, MailMessage, from_demo_seed
from hub.models import Organisation
from hub.money import format_pence
from hub.services import audit

BILLING_DIR = Path(__file__).resolve().parent.parent
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str


def billing_contact(org: Organisation, copied_email: str | None = None) -> Recipient | None:
    """Where money writes to an organisation (see the module's docstring for the rule)."""
    if copied_email:
        return Recipient(copied_email, org.name)
    if org.billing_email:
        return Recipient(org.billing_email, org.name)
    for contact in org.contacts:
        if contact.email:
            return Recipient(contact.email, contact.name)
    return None


def _one_line(value: str) -> str:
    """A name as a header may carry it: any line break becomes a space (the name was typed by a
    person; the message is still worth sending)."""
    return " ".join(value.split())


async def queue_document(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    document: Invoice,
    org: Organisation,
    as_shown: Callable[[], Awaitable[InvoiceOut]],
) -> MailMessage | None:
    """Queue "invoice issued" (or "credit note issued") with the document's PDF: the very bytes
    ``/invoices/<id>.pdf`` serves, from ``as_shown`` (the document as the page shows it). Call
    after the document is issued and flushed, before commit."""
    if from_demo_seed(actor) or document.number_text is None:
        return None
    to = billing_contact(org, document.customer_email)
    if to is None:
        return None
    doc = await as_shown()
    pdf = invoice_pdf(doc)
    is_invoice = document.kind == DocumentKind.INVOICE.value
    kind = "invoice_issued" if is_invoice else "credit_note_issued"
    title = "Invoice" if is_invoice else "Credit note"
    hub_name = settings.invoice_supplier_name
    text, html = mail.render(
        BILLING_DIR,
        kind,
        doc=doc,
        hub_name=hub_name,
        recipient=to,
        amount=format_pence(doc.gross_pence),
        outstanding=format_pence(doc.outstanding_pence),
        due=f"{doc.due_date:%A %d %B %Y}" if doc.due_date else "",
        payment_instructions=settings.payment_instructions,
        link=f"{settings.public_url}/invoices/{document.id}",
    )
    try:
        return await mail.enqueue(
            db,
            kind=kind,
            to=to.email,
            to_name=_one_line(to.name),
            subject=_one_line(f"{title} {doc.number} from {hub_name}"),
            text=text,
            html=html,
            attachments=[Attachment(f"{doc.number}.pdf", "application/pdf", pdf)],
            about=("invoice", document.id),
            dedupe_key=f"{kind}:{document.id}",
        )
    except RuleViolation as exc:
        # An address stored before it was checked as mail checks it: the invoice is still issued.
        logger.warning("billing: %s not queued for invoice %s: %s", kind, document.id, exc.detail)
        return None


@dataclass(frozen=True)
class Emailed:
    to: str
    status: str  # pending, sent or failed (hub.mail.MailStatus)


async def document_mail(db: AsyncSession, invoice_id: int) -> list[Emailed]:
    """The messages queued about this invoice or credit note, oldest first (for staff)."""
    rows = await db.execute(
        select(MailMessage.to_address, MailMessage.status)
        .where(MailMessage.about_type == "invoice", MailMessage.about_id == str(invoice_id))
        .order_by(MailMessage.id)
    )
    return [Emailed(to, status) for to, status in rows]


async def queue_statement(
    db: AsyncSession, settings: Settings, actor: Identity, statement: Statement
) -> MailMessage:
    """Queue an organisation's statement to its billing contact (asked for by staff or by the
    tenant itself), audited; commits. No billing contact: refused naming ``billing_email``."""
    from hub.queries import get_or_404

    org = await get_or_404(db, Organisation, statement.organisation_id, "That organisation")
    to = billing_contact(org)
    if to is None:
        raise RuleViolation(
            f"{org.name} has no billing email and no contact with an email address to send it to",
            field="billing_email",
        )
    hub_name = settings.invoice_supplier_name
    text, html = mail.render(
        BILLING_DIR,
        "statement",
        statement=statement,
        hub_name=hub_name,
        recipient=to,
        pence=format_pence,
        payment_instructions=settings.payment_instructions,
        link=f"{settings.public_url}/organisations/{org.id}/statement",
    )
    message = await mail.enqueue(
        db,
        kind="statement",
        to=to.email,
        to_name=_one_line(to.name),
        subject=_one_line(f"Statement of account from {hub_name}, to {statement.to_date:%d %B %Y}"),
        text=text,
        html=html,
        about=("organisation", org.id),
    )
    if message is None:  # pragma: no cover - no dedupe key, so always queued
        raise RuleViolation("the statement could not be queued", field="billing_email")
    audit.record(
        db,
        actor,
        "statement.emailed",
        "organisation",
        org.id,
        summary=f"Statement to {statement.to_date:%d %b %Y} emailed to {to.email}",
        changes={"to": [None, to.email]},
    )
    await db.flush()
    await db.commit()
    return message
