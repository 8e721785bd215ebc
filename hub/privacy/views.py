"""/admin/privacy: find a person by email, see what is held, download it, or erase them.

Every form posts (the address never sits in a URL, so never in a server's access log)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template

from hub.auth import ADMIN_ONLY, roles
from hub.deps import Caller, Db, RegistryDep, SettingsDep
from hub.errors import DomainError
from hub.models import Role
from hub.privacy import services
from hub.privacy.controllers import export_file
from hub.web import NavItem, form_errors, read_form, render

ADMIN = roles(ADMIN_ONLY)
TEMPLATE = "privacy/person.html"

# What each kind of record is called on the page (the export's keys; modules' parts as they are).
KIND_LABELS = {
    "account": "User account",
    "sessions": "Signed-in sessions",
    "api_tokens": "API tokens",
    "password_resets": "Password reset requests",
    "login_attempts": "Sign-in attempts",
    "contacts": "Contact on organisations",
    "billing_email_of": "Billing email of organisations",
    "audit_entries": "Audit log entries",
    "mail_messages": "Email messages",
    "invoices": "Issued invoices naming them (kept)",
}


# What an erasure changed (the counts' keys; modules' as "<module>.<kind>").
CHANGED_LABELS = {
    "account": "User account (pseudonymised and closed)",
    "sessions": "Signed-in sessions (ended, addresses cleared)",
    "api_tokens_revoked": "API tokens revoked",
    "password_resets": "Password reset links (closed)",
    "login_attempts": "Sign-in attempts",
    "contacts": "Contact on organisations",
    "organisation_billing_emails": "Billing email of organisations (cleared)",
    "organisation_notes": "Organisation notes",
    "draft_invoices": "Draft invoices (email cleared)",
    "payments_recorded_by": "Payments they recorded",
    "refunds_requested_by": "Refunds they asked for",
    "audit_entries": "Audit log entries",
    "mail_messages_erased": "Email messages to them (erased)",
    "mail_messages_scrubbed": "Email messages about them",
    "stored_answers": "Stored answers to retried requests",
}


# The same kinds as plain nouns, for "Nothing to change in: …" (nothing happened to them).
UNTOUCHED_LABELS = {
    "account": "a user account",
    "sessions": "signed-in sessions",
    "api_tokens_revoked": "API tokens",
    "password_resets": "password reset links",
    "login_attempts": "sign-in attempts",
    "contacts": "contacts on organisations",
    "organisation_billing_emails": "billing emails of organisations",
    "organisation_notes": "organisation notes",
    "draft_invoices": "draft invoices",
    "payments_recorded_by": "payments they recorded",
    "refunds_requested_by": "refunds they asked for",
    "audit_entries": "audit log entries",
    "mail_messages_erased": "email messages to them",
    "mail_messages_scrubbed": "email messages about them",
    "stored_answers": "stored answers to retried requests",
}


MODULE_LABELS = {"rooms": "Rooms", "cafe": "Café", "tenants": "Tenancies"}


def in_a_list(label: str) -> str:
    """A label as it reads inside a sentence: "User account" → "user account", but "API tokens"
    and "Café: …" (a module's name) keep their capitals."""
    if ":" in label or len(label) < 2 or label[1].isupper():
        return label
    return label[0].lower() + label[1:]


def _label(kind: str, labels: dict[str, str]) -> str:
    """A kind's words: the table's, else "<Module>: <kind>" for a module's part."""
    if kind in labels:
        return labels[kind]
    for separator in (".", ": "):
        if separator in kind:
            module, rest = kind.split(separator, 1)
            return f"{MODULE_LABELS.get(module, module.capitalize())}: {rest.replace('_', ' ')}"
    return kind.replace("_", " ").capitalize()


def _labelled(
    counts: Iterable[tuple[str, int]], labels: dict[str, str] = KIND_LABELS
) -> list[tuple[str, int]]:
    return [(_label(kind, labels), count) for kind, count in counts]


def _split(counts: list[tuple[str, int]]) -> tuple[list[tuple[str, int]], list[str]]:
    """The kinds with something in them, and the names of those looked for and found empty."""
    return [c for c in counts if c[1]], [kind for kind, count in counts if not count]


@get("/admin/privacy", opt=ADMIN, include_in_schema=False)
async def privacy_page(request: Request[Any, Any, Any]) -> Template:
    return render(request, TEMPLATE, title="Data protection", values={}, held=None)


async def _held_page(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    registry: RegistryDep,
    form: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    error_summary: str | None = None,
    status_code: int = 200,
) -> Template:
    """The person's page: what is held (counts per kind), the export and erase forms."""
    try:
        person = await services.find(db, settings, registry, form.get("email", ""))
    except DomainError as exc:
        found_errors, summary = form_errors(exc)
        return render(
            request,
            TEMPLATE,
            status_code=exc.status_code,
            title="Data protection",
            values={"email": form.get("email", "")},
            held=None,
            errors=found_errors,
            error_summary=summary,
        )
    exported = await services.export(db, settings, registry, person)
    invoices = [i["number"] for i in exported["invoices"]]
    held, empty_kinds = _split(_labelled(services.held(exported)))
    empty = [in_a_list(label) for label in empty_kinds]
    return render(
        request,
        TEMPLATE,
        status_code=status_code,
        title="Data protection",
        values={k: v for k, v in form.items() if k in ("email", "reason")},
        email=person.email,
        held=held,
        empty=empty,
        invoices=invoices,
        errors=errors,
        error_summary=error_summary,
    )


@post("/admin/privacy", opt=ADMIN, include_in_schema=False, status_code=200)
async def privacy_find(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, registry: RegistryDep
) -> Template:
    return await _held_page(request, db, settings, registry, await read_form(request))


@post("/admin/privacy/export", opt=ADMIN, include_in_schema=False, status_code=200)
async def privacy_export(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, registry: RegistryDep, identity: Caller
) -> Response[bytes] | Template:
    form = await read_form(request)
    try:
        exported = await services.export_request(db, settings, registry, identity, form.get("email", ""))
    except DomainError as exc:
        await db.rollback()
        errors, summary = form_errors(exc)
        return render(
            request,
            TEMPLATE,
            status_code=exc.status_code,
            title="Data protection",
            values={"email": form.get("email", "")},
            held=None,
            errors=errors,
            error_summary=summary,
        )
    return export_file(settings, exported)


@post("/admin/privacy/erase", opt=ADMIN, include_in_schema=False, status_code=200)
async def privacy_erase(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, registry: RegistryDep, identity: Caller
) -> Template:
    form = await read_form(request)
    try:
        result = await services.erase(
            db,
            settings,
            registry,
            identity,
            form.get("email", ""),
            reason=form.get("reason", ""),
            confirm=form.get("confirm", ""),
        )
    except DomainError as exc:
        await db.rollback()
        errors, summary = form_errors(exc)
        return await _held_page(
            request,
            db,
            settings,
            registry,
            form,
            errors=errors,
            error_summary=summary if errors else exc.detail,
            status_code=exc.status_code,
        )
    described = list(services.describe(result.counts))
    changed, _ = _split(_labelled(described, CHANGED_LABELS))
    untouched = [in_a_list(label) for label, count in _labelled(described, UNTOUCHED_LABELS) if not count]
    return render(
        request,
        "privacy/erased.html",
        title="Person erased",
        result=result,
        changed=changed,
        untouched=untouched,
    )


ROUTES = [privacy_page, privacy_find, privacy_export, privacy_erase]
NAV = [NavItem("Data protection", "/admin/privacy", frozenset({Role.ADMIN}), order=87)]
