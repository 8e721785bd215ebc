"""Series at the desk: the recurring-booking form, its clash check, and a series' summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from litestar import Request, get, post, route
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import STAFF, Identity, roles
from hub.config import Settings
from hub.db import utcnow
from hub.deps import Caller, Db, SettingsDep
from hub.errors import Conflict, DomainError
from hub.forms import Problems, parse_clock, parse_date
from hub.web import form_errors, read_form, redirect, render
from rooms.models import LIVE_STATUSES
from rooms.schemas import BookingOut, SeriesCreate
from rooms.services import series as service
from rooms.services import visibility
from rooms.services.calendar import BuildingCalendar
from rooms.services.occurrences import cancellation_fee
from rooms.views.common import (
    WEEKDAY_NAMES,
    app_registry,
    clash_text,
    clash_texts,
    load_choices,
    money,
)

# Error fields named by the schema → the inputs on this page.
FIELD_INPUTS = {
    "rule.until": "until",
    "rule.count": "count",
    "rule.weekdays": "weekdays",
    "rule.interval": "interval",
    "rule.freq": "freq",
    "rule.monthly_by": "monthly_by",
    "rule": "rule",
}


def parse_series(form: dict[str, str], *, skip_clashes: bool) -> SeriesCreate:
    problems = Problems()
    first = parse_date(form.get("first_date"))
    if first is None:
        problems.add("first_date", "enter the first date, e.g. 2026-04-07")
    for name in ("start_time", "end_time"):
        if parse_clock(form.get(name)) is None:
            problems.add(name, "enter a time of day such as 09:30")
    ends = form.get("ends", "count")
    rule: dict[str, Any] = {
        "freq": form.get("freq") or "weekly",
        # Each frequency has its own "every N" input (only the chosen one's is shown); "interval"
        # is what an older form or a script may send.
        "interval": form.get(f"interval_{form.get('freq') or 'weekly'}") or form.get("interval") or "1",
        "weekdays": [d for d in range(7) if form.get(f"weekday-{d}") == "yes"]
        if form.get("freq", "weekly") == "weekly"
        else [],
        "monthly_by": form.get("monthly_by") or "date",
    }
    if ends == "until":
        if parse_date(form.get("until")) is None:
            problems.add("until", "enter the last date, e.g. 2026-07-21")
        else:
            rule["until"] = form.get("until")
    else:
        if not form.get("count", "").isdigit():
            problems.add("count", "enter how many times, e.g. 12")
        else:
            rule["count"] = form.get("count")
    start = parse_clock(form.get("start_time"))
    end = parse_clock(form.get("end_time"))
    ids = {}
    for name, what in (("room_id", "choose a room"), ("organisation_id", "choose an organisation")):
        raw = form.get(name, "")
        if not raw.isdigit() or len(raw) > 19:
            problems.add(name, what)
            raw = "1"  # a placeholder so the other fields are checked too
        ids[name] = raw
    if not form.get("title"):
        problems.add("title", "enter a title")
    data: dict[str, Any] = {
        **ids,
        "title": form.get("title") or "placeholder",
        "first_date": (first or date(2000, 1, 3)).isoformat(),
        "start_time": f"{start:%H:%M}" if start else "10:00",
        "end_time": f"{end:%H:%M}" if end else "11:00",
        "rule": rule if "until" in rule or "count" in rule else {**rule, "count": 1},
        "category": form.get("category") or "other",
        "public_title": form.get("public_title", ""),
        "contact_name": form.get("contact_name", ""),
        "contact_email": form.get("contact_email") or None,
        "contact_phone": form.get("contact_phone") or None,
        "expected_attendance": form.get("expected_attendance") or None,
        "visibility": form.get("visibility") or None,
        "notes": form.get("notes", ""),
        "status": form.get("status") or "confirmed",
        "skip_clashes": skip_clashes,
        "override_opening_hours": form.get("override_opening_hours") == "yes",
        "override_reason": form.get("override_reason", ""),
    }
    return problems.convert(data, SeriesCreate)


def page_errors(exc: DomainError, form: dict[str, str] | None = None) -> tuple[dict[str, str], str]:
    errors, summary = form_errors(exc)
    named: dict[str, str] = {}
    freq = (form or {}).get("freq") or "weekly"
    for field, reason in errors.items():
        key = FIELD_INPUTS.get(field, field.split(".")[-1] if field.startswith("rule.") else field)
        if key == "interval":
            key = f"interval_{freq if freq in ('weekly', 'monthly') else 'weekly'}"
        named.setdefault(key, reason)
    return named, summary


def _defaults(request: Request[Any, Any, Any], settings: Settings) -> dict[str, str]:
    first = parse_date(request.query_params.get("first_date")) or settings.today()
    values = {
        "first_date": first.isoformat(),
        "freq": "weekly",
        "interval_weekly": "1",
        "interval_monthly": "1",
        "ends": "count",
        "count": "10",
        "monthly_by": "date",
        "status": "confirmed",
        f"weekday-{first.weekday()}": "yes",
    }
    room = request.query_params.get("room_id")
    if room:
        values["room_id"] = str(room)[:40]
    return values


async def _page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    identity: Identity,
    values: dict[str, str],
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    summary: str | None = None,
    problems: list[dict[str, Any]] | None = None,
    checked: int | None = None,
    warnings: list[tuple[str, str]] | None = None,
) -> Template:
    choices = await load_choices(db, identity)
    return render(
        request,
        "rooms/series_form.html",
        status_code=status_code,
        title="New series",
        values=values,
        errors=errors,
        error_summary=summary,
        choices=choices,
        weekdays=list(enumerate(WEEKDAY_NAMES)),
        problems=problems,
        checked=checked,
        warnings=warnings or [],
        can_override=identity.role in STAFF,
    )


@get("/desk/series/new", opt=roles(STAFF), include_in_schema=False)
async def series_new(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller
) -> Template:
    return await _page(request, db, identity, _defaults(request, settings))


def _problems_from_extra(extra: dict[str, Any], settings: Settings) -> list[dict[str, Any]]:
    out = []
    for item in extra.get("problems", []):
        clashes = []
        for c in item.get("clashes", []):
            try:
                start = datetime.fromisoformat(c["busy_start"])
                end = datetime.fromisoformat(c["busy_end"])
            except (KeyError, TypeError, ValueError):
                continue
            clashes.append(clash_text(str(c.get("room", "")), start, end, settings))
        out.append(
            {"when": item.get("start_local", ""), "reason": item.get("reason", ""), "clashes": clashes}
        )
    return out


@post("/desk/series/new", opt=roles(STAFF), include_in_schema=False)
async def series_create(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller
) -> Template | Redirect:
    form = await read_form(request)
    skip = form.get("skip_clashes") == "yes" or form.get("action") == "book_skip"
    confirmed = form.get("confirm_warnings") == "yes"
    if form.get("action") == "check" or (form.get("override_opening_hours") == "yes" and not confirmed):
        # The check step, and before booking with opening hours overridden: occurrences that
        # would land on a closure or bank holiday are listed for a second look first.
        try:
            data = parse_series(form, skip_clashes=skip)
            preview, warnings = await service.check(db, settings, identity, data)
        except DomainError as exc:
            await db.rollback()
            errors, summary = page_errors(exc, form)
            return await _page(
                request, db, identity, form, status_code=exc.status_code, errors=errors, summary=summary
            )
        await db.rollback()
        if form.get("action") == "check" or warnings:
            problems: list[dict[str, Any]] = [
                {"when": p.start_local, "reason": p.reason, "clashes": clash_texts(p.clashes, settings)}
                for p in preview.problems
            ]
            return await _page(
                request,
                db,
                identity,
                form,
                problems=problems,
                checked=preview.occurrences,
                warnings=warnings,
            )
    try:
        data = parse_series(form, skip_clashes=skip)
        series, booked, skipped = await service.create_series(
            db, settings, identity, data, registry=app_registry(request)
        )
    except DomainError as exc:
        await db.rollback()
        errors, summary = page_errors(exc, form)
        found = _problems_from_extra(exc.extra, settings) if isinstance(exc, Conflict) else None
        if found:
            errors = {}
            summary = exc.detail
        return await _page(
            request,
            db,
            identity,
            form,
            status_code=exc.status_code,
            errors=errors,
            summary=summary,
            problems=found,
            checked=None,
        )
    message = f"Booked {len(booked)} occurrence{'s' if len(booked) != 1 else ''} of {data.title}"
    if skipped:
        message += f"; skipped {len(skipped)}"
    return redirect(request, f"/desk/series/{series.id}", flash=message + ".")


@dataclass
class OccurrenceRow:
    """One line of the series page: a stored occurrence or a date the rule gave but was skipped."""

    when: datetime
    booking: BookingOut | None
    state: str
    detail: str
    price_pence: int | None


def _state(b: BookingOut, original: datetime | None, settings: Settings) -> tuple[str, str]:
    zone = settings.zone
    if b.status.value == "cancelled":
        fee = f"; late-cancellation fee {money(b.cancellation_fee_pence)}" if b.cancellation_fee_pence else ""
        return "Cancelled", (b.cancel_reason or "") + fee
    state = "Provisional hold" if b.status.value == "provisional" else "Booked"
    if b.is_exception and original is not None and original != b.start:
        return "Moved", f"from {original.astimezone(zone):%a %d %b %H:%M}"
    if b.is_exception:
        return state, "changed on its own"
    return state, ""


async def _series_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    settings: Settings,
    identity: Identity,
    series_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    summary: str | None = None,
    values: dict[str, str] | None = None,
    open_panel: str | None = None,
) -> Template:
    series = await service.get_series(db, series_id)
    occurrences = await service.series_bookings(db, series.id)
    shown = await visibility.bookings_out(db, occurrences, identity, settings)
    choices = await load_choices(db, identity)
    zone = settings.zone
    now = utcnow()
    rows: list[OccurrenceRow] = []
    for model, b in zip(occurrences, shown, strict=True):
        state, detail = _state(b, model.series_original_start, settings)
        price = (
            b.cancellation_fee_pence
            if state == "Cancelled"
            else (b.price_net_pence or 0) + (b.vat_pence or 0)
        )
        rows.append(OccurrenceRow(b.start, b, state, detail, price))
    reasons: dict[str, str] = series.template.get("skipped_reasons") or {}
    skipped: list[datetime] = []
    for value in series.skipped:
        try:
            skipped.append(datetime.fromisoformat(value))
        except ValueError:
            continue
    if skipped:
        calendar = await BuildingCalendar.load(
            db, settings, min(skipped).astimezone(zone).date(), max(skipped).astimezone(zone).date()
        )
        for when, raw in zip(skipped, series.skipped, strict=False):
            why = reasons.get(raw) or calendar.day(when.astimezone(zone).date()).closed_reason
            rows.append(
                OccurrenceRow(when, None, "Skipped", why or "clashed with another booking when booked", None)
            )
    rows.sort(key=lambda r: r.when)
    live = [r for r in rows if r.state in ("Booked", "Provisional hold", "Moved")]
    prices = sorted({r.price_pence or 0 for r in live})
    fees = sum(b.cancellation_fee_pence or 0 for b in shown)
    upcoming = [m for m in occurrences if m.status in LIVE_STATUSES and m.start_at > now]
    late = [(m, cancellation_fee(settings, m, now)) for m in upcoming]
    late = [(m, fee) for m, fee in late if fee]
    rule = series.rule
    weekdays = ", ".join(WEEKDAY_NAMES[d] + "s" for d in rule.get("weekdays", []) if 0 <= d < 7)
    every = rule.get("interval", 1)
    if rule.get("freq") == "weekly":
        description = f"Every {'week' if every == 1 else f'{every} weeks'} on {weekdays}"
    else:
        by = "same date" if rule.get("monthly_by") == "date" else "same weekday of the month"
        description = f"Every {'month' if every == 1 else f'{every} months'}, on the {by}"
    end_time = time.fromisoformat(series.template.get("end_time", "00:00"))
    today = now.astimezone(zone).date()
    return render(
        request,
        "rooms/series.html",
        status_code=status_code,
        title=series.template.get("title", "Series"),
        errors=errors,
        error_summary=summary,
        series=series,
        rows=rows,
        organisation=shown[0].organisation if shown else None,
        time_range=f"{series.start_time_local:%H:%M}–{end_time:%H:%M}",
        description=description,
        category_label=choices.category_label,
        room=next((r for r in choices.rooms if r.id == series.room_id), None),
        price_each=[money(p) for p in prices],
        total=money(sum(r.price_pence or 0 for r in live)),
        live_count=len(live),
        fees=money(fees) if fees else None,
        upcoming=len(upcoming),
        late_fees=money(sum(fee for _, fee in late)),
        late_count=len(late),
        late_hours=settings.late_cancellation_hours,
        fee_percent=settings.late_cancellation_fee_percent,
        values=values or {"after": max(today, series.first_date_local).isoformat()},
        open_panel=open_panel,
        money=money,
    )


# One handler for the page and its two forms ("end after …", "cancel the rest"): POST answers with
# the page again (errors beside the fields) or a redirect back to it.
@route("/desk/series/{series_id:int}", http_method=["GET", "POST"], opt=roles(STAFF), include_in_schema=False)
async def series_detail(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller, series_id: FromPath[int]
) -> Template | Redirect:
    if request.method == "POST":
        form = await read_form(request)
        return await _end(request, db, settings, identity, series_id, form)
    return await _series_page(request, db, settings, identity, series_id)


async def _end(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    settings: Settings,
    identity: Identity,
    series_id: int,
    form: dict[str, str],
) -> Template | Redirect:
    rest = form.get("action") == "cancel_rest"
    panel = "rest" if rest else "end"
    problems = Problems()
    after = None if rest else parse_date(form.get("after"))
    if not rest and after is None:
        problems.add("after", "enter the last date to keep, e.g. 2026-07-21")
    if not form.get("reason"):
        problems.add("reason", "say why the series ends")
    try:
        problems.raise_any()
        ended = await service.end_series(
            db,
            settings,
            identity,
            series_id,
            after=after,
            reason=form.get("reason", ""),
            waive_fee=form.get("waive_fee") == "yes",
        )
    except DomainError as exc:
        await db.rollback()
        errors, summary = form_errors(exc)
        if "series" in errors:
            errors["reason"] = errors.pop("series")
        return await _series_page(
            request,
            db,
            settings,
            identity,
            series_id,
            status_code=exc.status_code,
            errors=errors,
            summary=summary,
            values=form,
            open_panel=panel,
        )
    count = len(ended.cancelled)
    message = f"Cancelled {count} occurrence{'s' if count != 1 else ''}"
    if after is not None:
        message = f"The series now ends after {after:%a %d %b %Y}. " + message
    if ended.fees_pence:
        message += f"; late-cancellation fees {money(ended.fees_pence)}"
    return redirect(request, f"/desk/series/{series_id}", flash=message + ".")
