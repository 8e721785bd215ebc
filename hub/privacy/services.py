"""Subject access (export) and erasure requests: the core's part, then each module's.

The rules (who a person is, what replaces them) are in :mod:`hub.privacy`; what is kept and why is
in ``docs/data-protection.md``. An erasure is one transaction: every part of the hub changes, and
the audit entry saying so is written, or nothing is. Nothing is deleted: rows stay, with the
person's data replaced by a pseudonym, so ids, counts and the order of the audit log hold.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.billing.models import DocumentKind, Invoice, InvoiceStatus, Payment, StripeRefund
from hub.config import Settings
from hub.db import utcnow
from hub.errors import Conflict, InvalidInput, NotFound, RuleViolation
from hub.mail import valid_address
from hub.mail.models import MailMessage, MailStatus, PasswordResetToken
from hub.models import (
    ApiToken,
    AuditEntry,
    Contact,
    IdempotencyKey,
    LoginAttempt,
    Organisation,
    Role,
    User,
    UserSession,
)
from hub.modules import Registry
from hub.privacy import (
    PERSONAL_DATA,
    Person,
    PersonalDataProvider,
    Pseudonym,
    Traces,
    mentions,
    scrub,
    scrub_json,
)
from hub.security import hash_password, keyed_hash, new_secret
from hub.services import audit
from hub.services.accounts import normalise_email

EXPORTED = "person_exported"
ERASED = "person_erased"
ERASED_BODY = "This message was erased on request (data protection)."
ERASED_REASON = "erased on request"


@dataclass(frozen=True)
class Kept:
    """Something left as it was on purpose, and why (shown after an erasure)."""

    what: str
    fields: tuple[str, ...]
    why: str
    count: int


@dataclass(frozen=True)
class Erasure:
    pseudonym: str
    erased_at: datetime
    counts: dict[str, int]
    kept: list[Kept]
    audit_entry_id: int


# -- who -------------------------------------------------------------------------------------------


def checked_email(email: str) -> str:
    """The address, lower-cased; 422 naming ``email`` if it is blank or not one address."""
    value = normalise_email(email)
    if not value:
        raise InvalidInput("give the person's email address", field="email")
    valid_address(value, field="email")
    return value


def email_hash(settings: Settings, email: str) -> str:
    """A keyed hash of the address: recognises a repeated request without storing the address."""
    return keyed_hash(settings.secret_key, "privacy:" + email)


def providers(registry: Registry) -> list[tuple[str, PersonalDataProvider]]:
    """Each module's part, with the module's name, in module order."""
    return [(m.name, m.provides[PERSONAL_DATA]) for m in registry.modules if PERSONAL_DATA in m.provides]


def _lower_has(column: Any, email: str) -> ColumnElement[bool]:
    return func.lower(column).contains(email, autoescape=True)


def _audit_condition(person: Person) -> ColumnElement[bool]:
    email = person.email
    conditions: list[ColumnElement[bool]] = [
        func.lower(AuditEntry.actor_label) == email,
        _lower_has(AuditEntry.summary, email),
        _lower_has(AuditEntry.reason, email),
        _lower_has(cast(AuditEntry.changes, Text), email),
    ]
    if person.user_id is not None:
        conditions.append(AuditEntry.actor_id == person.user_id)
    by_type: dict[str, list[str]] = {}
    for object_type, object_id in person.objects:
        by_type.setdefault(object_type, []).append(object_id)
    for object_type, ids in sorted(by_type.items()):
        conditions.append(and_(AuditEntry.object_type == object_type, AuditEntry.object_id.in_(sorted(ids))))
    return or_(*conditions)


def _mail_condition(person: Person) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [
        func.lower(MailMessage.to_address) == person.email,
        _lower_has(MailMessage.text_body, person.email),
    ]
    by_type: dict[str, list[str]] = {}
    for object_type, object_id in person.objects:
        by_type.setdefault(object_type, []).append(object_id)
    for object_type, ids in sorted(by_type.items()):
        conditions.append(and_(MailMessage.about_type == object_type, MailMessage.about_id.in_(sorted(ids))))
    return or_(*conditions)


async def _count(db: AsyncSession, condition: ColumnElement[bool], model: Any) -> int:
    return int(await db.scalar(select(func.count()).select_from(model).where(condition)) or 0)


async def _user(db: AsyncSession, email: str) -> User | None:
    found: User | None = await db.scalar(select(User).where(func.lower(User.email) == email))
    return found


async def _previous_erasure(db: AsyncSession, settings: Settings, email: str) -> AuditEntry | None:
    wanted = email_hash(settings, email)
    entries = await db.scalars(
        select(AuditEntry).where(AuditEntry.action == ERASED).order_by(AuditEntry.id.desc())
    )
    return next((e for e in entries if (e.changes or {}).get("email_hash") == wanted), None)


async def find(db: AsyncSession, settings: Settings, registry: Registry, email: str) -> Person:
    """Who the request is about (see :mod:`hub.privacy`). 404 naming ``email`` when nothing at
    all is held under the address (saying so, and when, if it was erased before)."""
    email = checked_email(email)
    user = await _user(db, email)
    contacts = list(await db.scalars(select(Contact).where(func.lower(Contact.email) == email)))
    names = {user.name} if user else set()
    names |= {c.name for c in contacts}
    phones = {c.phone for c in contacts if c.phone}
    objects = {("user", str(user.id))} if user else set()
    records = (1 if user else 0) + len(contacts)
    for _name, provider in providers(registry):
        traces: Traces = await provider.traces(db, email)
        records += traces.records
        names |= traces.names
        phones |= traces.phones
        objects |= traces.objects
    person = Person(
        email=email,
        user_id=user.id if user else None,
        names=frozenset(n for n in names if n),
        phones=frozenset(phones),
        objects=frozenset(objects),
    )
    if records == 0:
        records += await _count(db, func.lower(LoginAttempt.email) == email, LoginAttempt)
        records += await _count(db, func.lower(MailMessage.to_address) == email, MailMessage)
        records += await _count(db, func.lower(Organisation.billing_email) == email, Organisation)
        records += len(await _audit_entries(db, person))
    if records == 0:
        previous = await _previous_erasure(db, settings, email)
        if previous is not None:
            when = previous.at.astimezone(settings.zone).strftime("%d %b %Y %H:%M")
            label = (previous.changes or {}).get("pseudonym", "a pseudonym")
            raise NotFound(f"nothing is held about {email}: erased on {when} as {label}", field="email")
        raise NotFound(f"nothing is held about {email}", field="email")
    return person


# -- export ----------------------------------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _by_email(person: Person) -> Person:
    """The person as their email alone: what makes a record theirs when it is not linked to them."""
    return Person(email=person.email)


def _about(person: Person, object_type: str | None, object_id: str | None) -> bool:
    return (object_type or "", object_id or "") in person.objects


async def _audit_entries(db: AsyncSession, person: Person) -> list[AuditEntry]:
    """Entries they made, entries about them, and entries naming their email (the query finds a
    superset by substring; a whole-address match decides, so jimbob@… is not bob@…)."""
    alone = _by_email(person)
    found = await db.scalars(select(AuditEntry).where(_audit_condition(person)).order_by(AuditEntry.id))
    return [
        e
        for e in found
        if (person.user_id is not None and e.actor_id == person.user_id)
        or e.actor_label.lower() == person.email
        or _about(person, e.object_type, e.object_id)
        or mentions(" ".join((e.summary, e.reason, json.dumps(e.changes or {}))), alone)
    ]


async def _mail_messages(db: AsyncSession, person: Person) -> list[MailMessage]:
    alone = _by_email(person)
    found = await db.scalars(select(MailMessage).where(_mail_condition(person)).order_by(MailMessage.id))
    return [
        m
        for m in found
        if m.to_address.lower() == person.email
        or _about(person, m.about_type, m.about_id)
        or mentions(m.text_body, alone)
    ]


async def _kept_invoices(db: AsyncSession, person: Person) -> list[Invoice]:
    copied = [func.lower(Invoice.customer_email) == person.email]
    if person.names:
        copied.append(func.lower(Invoice.customer_name).in_(sorted(n.lower() for n in person.names)))
    return list(
        await db.scalars(
            select(Invoice).where(Invoice.number_text.is_not(None), or_(*copied)).order_by(Invoice.id)
        )
    )


async def export(db: AsyncSession, settings: Settings, registry: Registry, person: Person) -> dict[str, Any]:
    """Everything held about the person, JSON-safe. Reads only; :func:`export_request` audits it."""
    email = person.email
    user = await db.get(User, person.user_id) if person.user_id is not None else None
    data: dict[str, Any] = {
        "request": {
            "email": email,
            "exported_at": _iso(utcnow()),
            "hub": settings.hub_name,
            "rule": "everything held under this email address (case-insensitive), its user account, "
            "and the names and phone numbers recorded beside it",
        },
        "account": None,
        "sessions": [],
        "api_tokens": [],
        "password_resets": [],
    }
    if user is not None:
        data["account"] = {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": user.role,
            "organisation_id": user.organisation_id,
            "organisation": user.organisation.name if user.organisation else None,
            "active": user.active,
            "created_at": _iso(user.created_at),
            "last_login_at": _iso(user.last_login_at),
            "password_changed_at": _iso(user.password_changed_at),
        }
        sessions = await db.scalars(
            select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
        )
        data["sessions"] = [
            {
                "created_at": _iso(s.created_at),
                "expires_at": _iso(s.expires_at),
                "ended_at": _iso(s.ended_at),
                "ip_address": s.ip_address,
                "user_agent": s.user_agent,
            }
            for s in sessions
        ]
        tokens = await db.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
        data["api_tokens"] = [
            {
                "name": t.name,
                "prefix": t.prefix,
                "created_at": _iso(t.created_at),
                "last_used_at": _iso(t.last_used_at),
                "revoked_at": _iso(t.revoked_at),
            }
            for t in tokens
        ]
        resets = await db.scalars(
            select(PasswordResetToken)
            .where(PasswordResetToken.user_id == user.id)
            .order_by(PasswordResetToken.id)
        )
        data["password_resets"] = [
            {
                "created_at": _iso(r.created_at),
                "expires_at": _iso(r.expires_at),
                "used_at": _iso(r.used_at),
            }
            for r in resets
        ]
    attempts = await db.scalars(
        select(LoginAttempt).where(func.lower(LoginAttempt.email) == email).order_by(LoginAttempt.id)
    )
    data["login_attempts"] = [
        {"at": _iso(a.at), "ip_address": a.ip_address, "succeeded": a.succeeded} for a in attempts
    ]
    contacts = await db.execute(
        select(Contact, Organisation.name)
        .join(Organisation, Organisation.id == Contact.organisation_id)
        .where(func.lower(Contact.email) == email)
        .order_by(Contact.id)
    )
    data["contacts"] = [
        {
            "organisation_id": c.organisation_id,
            "organisation": org_name,
            "name": c.name,
            "email": c.email,
            "phone": c.phone,
            "role": c.role,
        }
        for c, org_name in contacts
    ]
    billing = await db.scalars(
        select(Organisation).where(func.lower(Organisation.billing_email) == email).order_by(Organisation.id)
    )
    data["billing_email_of"] = [{"organisation_id": o.id, "organisation": o.name} for o in billing]
    data["audit_entries"] = [
        {
            "id": e.id,
            "at": _iso(e.at),
            "actor": e.actor_label,
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "summary": e.summary,
            "changes": e.changes,
            "reason": e.reason,
        }
        for e in await _audit_entries(db, person)
    ]
    data["mail_messages"] = [
        {
            "id": m.id,
            "kind": m.kind,
            "status": m.status,
            "to_address": m.to_address,
            "to_name": m.to_name,
            "subject": m.subject,
            "text_body": m.text_body,
            "html_body": m.html_body,
            "created_at": _iso(m.created_at),
            "sent_at": _iso(m.sent_at),
            "attachments": [a.filename for a in m.attachments],
        }
        for m in await _mail_messages(db, person)
    ]
    data["invoices"] = [
        {
            "number": i.number_text,
            "kind": i.kind,
            "issue_date": _iso(i.issue_date),
            "customer_name": i.customer_name,
            "customer_email": i.customer_email,
        }
        for i in await _kept_invoices(db, person)
    ]
    data["modules"] = {name: await provider.export(db, person) for name, provider in providers(registry)}
    return data


def held(exported: dict[str, Any]) -> list[tuple[str, int]]:
    """How many records of each kind an export holds (for the page): lists by length, numbers as
    they are, modules' parts as "<module>: <kind>"."""
    counts: list[tuple[str, int]] = [("account", 1 if exported.get("account") else 0)]
    for key, value in exported.items():
        if isinstance(value, list):
            counts.append((key, len(value)))
    for module, part in (exported.get("modules") or {}).items():
        for key, value in part.items():
            if isinstance(value, list):
                counts.append((f"{module}: {key}", len(value)))
            elif isinstance(value, int) and not isinstance(value, bool):
                counts.append((f"{module}: {key}", value))
    return counts


async def export_request(
    db: AsyncSession, settings: Settings, registry: Registry, actor: Identity, email: str
) -> dict[str, Any]:
    """A subject access request: the export, audited ("person_exported"; the entry holds a keyed
    hash of the address, not the address)."""
    person = await find(db, settings, registry, email)
    data = await export(db, settings, registry, person)
    hashed = email_hash(settings, person.email)
    audit.record(
        db,
        actor,
        EXPORTED,
        "person",
        hashed[:16],
        summary="Exported the personal data held about a person"
        + (f" (account #{person.user_id})" if person.user_id is not None else ""),
        changes={"email_hash": hashed, "user_id": person.user_id},
    )
    await db.commit()
    return data


# -- erase -----------------------------------------------------------------------------------------


async def _active_admins(db: AsyncSession) -> int:
    return await _count(db, and_(User.role == Role.ADMIN.value, User.active.is_(True)), User)


async def _new_pseudonym(db: AsyncSession) -> Pseudonym:
    while True:
        pseudonym = Pseudonym(secrets.token_hex(5))
        if await _user(db, pseudonym.email) is None:
            return pseudonym


def _scrub_bytes(data: bytes, person: Person, pseudonym: Pseudonym) -> bytes:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    return scrub(text, person, pseudonym).encode("utf-8")


async def _erase_account(
    db: AsyncSession, actor: Identity, person: Person, pseudonym: Pseudonym, counts: dict[str, int]
) -> None:
    if person.user_id is None:
        return
    user = await db.get(User, person.user_id)
    assert user is not None
    user.email = pseudonym.email
    user.name = pseudonym.name
    user.active = False
    user.password_hash = hash_password(new_secret())  # nobody knows it: the account cannot sign in
    user.failed_logins = 0
    user.locked_until = None
    counts["account"] = 1
    now = utcnow()
    counts["sessions"] = await _changed(
        db,
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(ip_address="", user_agent="", ended_at=func.coalesce(UserSession.ended_at, now)),
    )
    counts["api_tokens_revoked"] = await _changed(
        db,
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by_id=actor.user_id),
    )
    counts["password_resets"] = await _changed(
        db,
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id)
        .values(requested_ip="", used_at=func.coalesce(PasswordResetToken.used_at, now)),
    )


async def _changed(db: AsyncSession, statement: Any) -> int:
    result = await db.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def _erase_core(
    db: AsyncSession, actor: Identity, person: Person, pseudonym: Pseudonym, counts: dict[str, int]
) -> None:
    email = person.email
    await _erase_account(db, actor, person, pseudonym, counts)
    counts["login_attempts"] = await _changed(
        db,
        update(LoginAttempt)
        .where(func.lower(LoginAttempt.email) == email)
        .values(email=pseudonym.email, ip_address=""),
    )
    contacts = list(await db.scalars(select(Contact).where(func.lower(Contact.email) == email)))
    for contact in contacts:
        contact.name = pseudonym.name
        contact.email = None
        contact.phone = None
    counts["contacts"] = len(contacts)
    counts["organisation_billing_emails"] = await _changed(
        db,
        update(Organisation)
        .where(func.lower(Organisation.billing_email) == email)
        .values(billing_email=None),
    )
    candidates = await db.scalars(select(Organisation).where(_lower_has(Organisation.notes, email)))
    notes = [org for org in candidates if mentions(org.notes, _by_email(person))]
    for org in notes:
        org.notes = scrub(org.notes, person, pseudonym)
    counts["organisation_notes"] = len(notes)
    # A draft is copied again from its organisation when it is issued: it is not a kept record.
    counts["draft_invoices"] = await _changed(
        db,
        update(Invoice)
        .where(Invoice.status == InvoiceStatus.DRAFT.value, func.lower(Invoice.customer_email) == email)
        .values(customer_email=None),
    )
    # Who recorded a payment or asked for a refund: the account id stays, the label is replaced.
    recorded = [func.lower(Payment.created_by_label) == email]
    requested = [func.lower(StripeRefund.requested_by_label) == email]
    if person.user_id is not None:
        recorded.append(Payment.created_by_id == person.user_id)
        requested.append(StripeRefund.requested_by_id == person.user_id)
    counts["payments_recorded_by"] = await _changed(
        db, update(Payment).where(or_(*recorded)).values(created_by_label=pseudonym.name)
    )
    counts["refunds_requested_by"] = await _changed(
        db, update(StripeRefund).where(or_(*requested)).values(requested_by_label=pseudonym.name)
    )
    entries = await _audit_entries(db, person)
    changed = 0
    for entry in entries:
        before = (entry.actor_label, entry.summary, entry.reason, entry.changes)
        if (
            entry.actor_id is not None and entry.actor_id == person.user_id
        ) or entry.actor_label.lower() == email:
            entry.actor_label = pseudonym.name
        entry.summary = scrub(entry.summary, person, pseudonym)[:300]
        entry.reason = scrub(entry.reason, person, pseudonym)
        entry.changes = scrub_json(entry.changes, person, pseudonym)
        if (entry.actor_label, entry.summary, entry.reason, entry.changes) != before:
            changed += 1
    counts["audit_entries"] = changed
    messages = await _mail_messages(db, person)
    erased_messages = scrubbed_messages = 0
    for message in messages:
        if message.to_address.lower() == email:
            erased_messages += 1
            message.to_address = pseudonym.email
            message.to_name = pseudonym.name
            message.subject = scrub(message.subject, person, pseudonym)
            message.text_body = ERASED_BODY
            message.html_body = None
            if message.status == MailStatus.PENDING.value:
                message.status = MailStatus.FAILED.value
                message.last_error = ERASED_REASON
                message.claim_token = None
                message.claimed_until = None
            for attachment in message.attachments:
                attachment.data = (
                    _scrub_bytes(attachment.data, person, pseudonym)
                    if attachment.content_type.startswith("text/")
                    else b""
                )
        else:
            scrubbed_messages += 1
            message.to_name = scrub(message.to_name, person, pseudonym)
            message.subject = scrub(message.subject, person, pseudonym)
            message.text_body = scrub(message.text_body, person, pseudonym)
            message.html_body = scrub(message.html_body, person, pseudonym) if message.html_body else None
            for attachment in message.attachments:
                if attachment.content_type.startswith("text/"):
                    attachment.data = _scrub_bytes(attachment.data, person, pseudonym)
    counts["mail_messages_erased"] = erased_messages
    counts["mail_messages_scrubbed"] = scrubbed_messages
    # Stored answers to retried writes (kept 48 hours) may repeat what the person gave.
    answers = 0
    for key in await db.scalars(select(IdempotencyKey)):
        body = key.response_body or b""
        if mentions(body.decode("utf-8", "replace"), _by_email(person)):
            new_body = _scrub_bytes(body, person, pseudonym)
            if new_body != body:
                key.response_body = new_body
                answers += 1
    counts["stored_answers"] = answers


async def _kept(db: AsyncSession, person: Person) -> list[Kept]:
    invoices = await _kept_invoices(db, person)
    documents = [i for i in invoices if i.kind == DocumentKind.INVOICE.value]
    notes = [i for i in invoices if i.kind == DocumentKind.CREDIT_NOTE.value]
    numbers = ", ".join(i.number_text or "" for i in invoices)
    return [
        Kept(
            what="Issued invoices and credit notes" + (f" ({numbers})" if numbers else " (none name them)"),
            fields=("customer_name", "customer_address", "customer_email"),
            why="Financial records: HMRC requires VAT invoices and the business records behind them "
            "to be kept for six years, and an issued invoice is never changed (only credited).",
            count=len(documents) + len(notes),
        ),
        Kept(
            what="Payments, allocations and the ledger",
            fields=("amounts", "dates", "references"),
            why="Financial records kept six years (HMRC; the charity's accounting records).",
            count=0,
        ),
        Kept(
            what="The audit log's rows",
            fields=("at", "action", "object_type", "object_id"),
            why="Its integrity: no row is removed or reordered; the person's email, names and "
            "phones in them are replaced by the pseudonym.",
            count=0,
        ),
    ]


async def erase(
    db: AsyncSession,
    settings: Settings,
    registry: Registry,
    actor: Identity,
    email: str,
    *,
    reason: str,
    confirm: str,
) -> Erasure:
    """Replace the person's personal data with one pseudonym everywhere it appears, in one
    transaction with its audit entry ("person_erased": the pseudonym, who, when, why, and a keyed
    hash of the address instead of the address). Refused, with nothing changed: without a reason,
    when the confirmation is not the same address, for the caller's own account, and for the last
    active admin (the hub must never be left without one)."""
    email = checked_email(email)
    reason = reason.strip()
    if not reason:
        raise InvalidInput(
            "say why the person is erased (for example, their request and its date)", field="reason"
        )
    if normalise_email(confirm) != email:
        raise InvalidInput("type the same email address again to confirm", field="confirm")
    person = await find(db, settings, registry, email)
    if person.user_id is not None:
        user = await db.get(User, person.user_id)
        assert user is not None
        if user.role == Role.ADMIN.value and user.active and await _active_admins(db) <= 1:
            raise Conflict(f"{email} is the last active admin: make another admin first", field="email")
        if actor.user_id == user.id:
            raise RuleViolation("you cannot erase your own account; ask another admin", field="email")
    pseudonym = await _new_pseudonym(db)
    kept = await _kept(db, person)
    counts: dict[str, int] = {}
    await _erase_core(db, actor, person, pseudonym, counts)
    for module, provider in providers(registry):
        for kind, count in (await provider.erase(db, person, pseudonym)).items():
            counts[f"{module}.{kind}"] = count
    now = utcnow()
    entry = audit.record(
        db,
        actor,
        ERASED,
        "person",
        pseudonym.token,
        summary=f"Erased a person's personal data; they are now {pseudonym.name}",
        changes={
            "pseudonym": pseudonym.name,
            "email_hash": email_hash(settings, email),
            "user_id": person.user_id,
            "counts": counts,
        },
        reason=scrub(reason, person, pseudonym),
    )
    await db.flush()
    entry_id = entry.id
    await db.commit()
    return Erasure(pseudonym=pseudonym.name, erased_at=now, counts=counts, kept=kept, audit_entry_id=entry_id)


def describe(counts: dict[str, int]) -> Iterable[tuple[str, int]]:
    """The counts as (what, how many), for pages: nonzero first, then the rest."""
    items = sorted(counts.items())
    return [*(i for i in items if i[1]), *(i for i in items if not i[1])]
