"""Find a room (staff): a date, or a weekday for some weeks, a time span, a head-count and
features; the rooms free for it, their rate for the organisation, and "Book this". Thin: the
search is :func:`rooms.services.finder.find_rooms`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Template

from hub.auth import STAFF, roles
from hub.deps import Caller, Db, SettingsDep
from hub.errors import DomainError
from hub.forms import Problems, parse_clock, parse_date, parse_id
from hub.money import format_pence
from hub.web import render
from rooms.models import FEATURES
from rooms.services.finder import MAX_WEEKS, FoundRoom, feature_words, find_rooms, search_dates
from rooms.views.common import WEEKDAY_NAMES, load_choices

FIELDS = ("date", "weekday", "weeks", "start", "end", "capacity", "organisation_id")


def _book_link(found: FoundRoom, values: dict[str, str]) -> str:
    query = {
        "room_id": str(found.room.id),
        "date": found.dates[0].isoformat(),
        "start": values["start"],
        "end": values["end"],
    }
    if values.get("capacity"):
        query["expected_attendance"] = values["capacity"]
    if values.get("organisation_id"):
        query["organisation_id"] = values["organisation_id"]
    return "/desk/bookings/new?" + urlencode(query)


def _series_link(found: FoundRoom) -> str:
    query = {"room_id": found.room.id, "first_date": found.dates[0].isoformat()}
    return "/desk/series/new?" + urlencode(query)


@get("/desk/find", opt=roles(STAFF), include_in_schema=False)
async def find_room(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller
) -> Template:
    query = request.query_params
    values = {name: str(query.get(name) or "").strip()[:40] for name in FIELDS}
    wanted = [str(f) for f in query.getall("features", [])][:20]
    searched = "start" in query or "end" in query
    if not searched:
        values["date"] = (parse_date(values["date"]) or settings.today()).isoformat()
    if not values["weeks"]:
        values["weeks"] = "1"
    errors: dict[str, str] = {}
    summary: str | None = None
    results: list[FoundRoom] | None = None
    dates = []
    status_code = 200
    if searched:
        problems = Problems()
        day = parse_date(values["date"])
        if day is None:
            problems.add("date", "enter the date, e.g. 2026-03-31")
        weekday = None
        if values["weekday"]:
            weekday = int(values["weekday"]) if values["weekday"] in tuple("0123456") else -1
            if weekday == -1:
                problems.add("weekday", "choose a day of the week")
        weeks = int(values["weeks"]) if values["weeks"].isdigit() and len(values["weeks"]) < 4 else 0
        if not 1 <= weeks <= MAX_WEEKS:
            problems.add("weeks", f"enter a number of weeks from 1 to {MAX_WEEKS}")
        start, end = parse_clock(values["start"]), parse_clock(values["end"])
        if start is None:
            problems.add("start", "enter a time of day such as 14:00")
        if end is None:
            problems.add("end", "enter a time of day such as 16:00")
        if start is not None and end is not None:
            values["start"], values["end"] = f"{start:%H:%M}", f"{end:%H:%M}"
            if end <= start:
                problems.add("end", "enter an end time after the start")
        capacity = 0
        if values["capacity"]:
            if values["capacity"].isdigit() and len(values["capacity"]) < 6:
                capacity = int(values["capacity"])
            else:
                problems.add("capacity", "enter how many people, as a number such as 8")
        unknown = [f for f in wanted if f not in FEATURES]
        if unknown:
            problems.add("features", "choose features from the list")
        org = None
        if values["organisation_id"]:
            org = parse_id(values["organisation_id"])
            if org is None:
                problems.add("organisation_id", "choose an organisation from the list")
        try:
            problems.raise_any()
            assert day is not None and start is not None and end is not None
            dates = search_dates(day, weeks, None if weekday in (None, -1) else weekday)
            results = await find_rooms(
                db,
                settings,
                identity,
                dates=dates,
                start_time=start,
                end_time=end,
                capacity=capacity,
                features=wanted,
                organisation_id=org,
            )
        except DomainError as exc:
            await db.rollback()
            status_code = exc.status_code
            for item in exc.errors or []:
                errors.setdefault(item.field or "form", item.reason)
            if not exc.errors:
                errors["form"] = exc.detail
            summary = "Please correct the search." if exc.errors else exc.detail
            results = None
    choices = await load_choices(db, identity)
    return render(
        request,
        "rooms/find.html",
        status_code=status_code,
        title="Find a room",
        values=values,
        wanted=wanted,
        errors=errors,
        error_summary=summary,
        results=results,
        dates=dates,
        every=[r for r in results or [] if r.free_every_time],
        some=[r for r in results or [] if not r.free_every_time],
        features=[(slug, label, feature_words([slug])[0][0]) for slug, label in FEATURES.items()],
        feature_words=feature_words,
        weekdays=list(enumerate(WEEKDAY_NAMES)),
        organisations=choices.organisations,
        organisation_name=next(
            (name for oid, name in choices.organisations if str(oid) == values["organisation_id"]),
            "the organisation",
        ),
        book_link=lambda f: _book_link(f, values),
        series_link=_series_link,
        money=format_pence,
        max_weeks=MAX_WEEKS,
    )
