"""Series at the desk: the recurring-booking form, its clash check, and a series' summary."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import STAFF, Identity, roles
from hub.config import Settings
from hub.deps import Caller, Db, SettingsDep
from hub.errors import Conflict, DomainError
from hub.forms import Problems, parse_clock, parse_date
from hub.web import form_errors, read_form, redirect, render
from rooms.schemas import SeriesCreate
from rooms.services import series as service
from rooms.services import visibility
from rooms.views.common import (
    WEEKDAY_NAMES,
    clash_text,
    clash_texts,
    load_choices,
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
        "interval": form.get("interval") or "1",
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


def page_errors(exc: DomainError) -> tuple[dict[str, str], str]:
    errors, summary = form_errors(exc)
    named: dict[str, str] = {}
    for field, reason in errors.items():
        key = FIELD_INPUTS.get(field, field.split(".")[-1] if field.startswith("rule.") else field)
        named.setdefault(key, reason)
    return named, summary


def _defaults(request: Request[Any, Any, Any], settings: Settings) -> dict[str, str]:
    first = parse_date(request.query_params.get("first_date")) or settings.today()
    values = {
        "first_date": first.isoformat(),
        "freq": "weekly",
        "interval": "1",
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
    if form.get("action") == "check":
        try:
            data = parse_series(form, skip_clashes=skip)
            preview = await service.preview(db, settings, identity, data)
        except DomainError as exc:
            await db.rollback()
            errors, summary = page_errors(exc)
            return await _page(
                request, db, identity, form, status_code=exc.status_code, errors=errors, summary=summary
            )
        await db.rollback()
        problems: list[dict[str, Any]] = [
            {"when": p.start_local, "reason": p.reason, "clashes": clash_texts(p.clashes, settings)}
            for p in preview.problems
        ]
        return await _page(request, db, identity, form, problems=problems, checked=preview.occurrences)
    try:
        data = parse_series(form, skip_clashes=skip)
        series, booked, skipped = await service.create_series(db, settings, identity, data)
    except DomainError as exc:
        await db.rollback()
        errors, summary = page_errors(exc)
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


@get("/desk/series/{series_id:int}", opt=roles(STAFF), include_in_schema=False)
async def series_detail(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller, series_id: FromPath[int]
) -> Template:
    series = await service.get_series(db, series_id)
    occurrences = await service.series_bookings(db, series.id)
    shown = await visibility.bookings_out(db, occurrences, identity, settings)
    choices = await load_choices(db, identity)
    skipped = []
    for value in series.skipped:
        try:
            skipped.append(datetime.fromisoformat(value))
        except ValueError:
            continue
    rule = series.rule
    weekdays = ", ".join(WEEKDAY_NAMES[d] + "s" for d in rule.get("weekdays", []) if 0 <= d < 7)
    every = rule.get("interval", 1)
    if rule.get("freq") == "weekly":
        description = f"Every {'week' if every == 1 else f'{every} weeks'} on {weekdays}"
    else:
        by = "same date" if rule.get("monthly_by") == "date" else "same weekday of the month"
        description = f"Every {'month' if every == 1 else f'{every} months'}, on the {by}"
    return render(
        request,
        "rooms/series.html",
        title=series.template.get("title", "Series"),
        series=series,
        occurrences=shown,
        skipped=sorted(skipped),
        description=description,
        category_label=choices.category_label,
        room=next((r for r in choices.rooms if r.id == series.room_id), None),
    )
