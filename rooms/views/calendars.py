"""The public "What's on" page and "My calendars" (secret feed addresses). Thin: services do the work.

What's on always shows the public face of a booking, whoever is looking: it is the page that gets
printed for the noticeboard, so a signed-in receptionist's copy must not carry private details.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import ALL_ROLES, PUBLIC, Identity, roles
from hub.config import Settings
from hub.deps import Caller, Db, SettingsDep, Viewer
from hub.errors import NotFound
from hub.forms import parse_date
from hub.headers import came_over_https
from hub.web import redirect, render
from rooms.models import BookingCategory, Room
from rooms.schemas import BookingOut
from rooms.services import bookings as booking_service
from rooms.services import feed_tokens, visibility
from rooms.services import settings as rooms_settings
from rooms.services.localtime import combine_local
from rooms.services.rooms import RoomMap
from rooms.views.common import bookable_rooms, hhmm
from rooms.views.grid import week_start

CALENDARS_PATH = "/account/calendars"
KIND_LABELS: dict[feed_tokens.Kind, str] = {"user": "personal", "organisation": "organisation"}


# --- feed addresses -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedLink:
    """One calendar to subscribe to: its https address and the same address as webcal://."""

    label: str
    https: str
    webcal: str


def _bases(request: Request[Any, Any, Any]) -> tuple[str, str]:
    """The hub's address as https (or http when run locally without TLS) and as webcal://."""
    base = str(request.base_url).rstrip("/")
    scheme, _, rest = base.partition("://")
    if came_over_https(request.scope, request.app.state.settings):
        scheme = "https"
    return f"{scheme}://{rest}", f"webcal://{rest}"


def _link(request: Request[Any, Any, Any], label: str, path: str) -> FeedLink:
    https, webcal = _bases(request)
    return FeedLink(label=label, https=f"{https}{path}", webcal=f"{webcal}{path}")


def public_feeds(
    request: Request[Any, Any, Any], rooms: list[Room], categories: list[BookingCategory]
) -> dict[str, list[FeedLink]]:
    return {
        "building": [_link(request, "The whole building", "/feeds/building.ics")],
        "rooms": [_link(request, room.name, f"/feeds/rooms/{room.id}.ics") for room in rooms],
        "categories": [_link(request, c.label, f"/feeds/categories/{c.slug}.ics") for c in categories],
    }


# --- what's on --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    when: str  # "10:00–11:30", building time
    title: str
    room: str
    category: str
    private: bool
    provisional: bool


@dataclass
class DayGroup:
    day: date
    is_today: bool
    entries: list[Entry] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.day.isoformat()


def _when(booking: BookingOut, settings: Settings) -> str:
    zone = settings.zone
    start, end = booking.start.astimezone(zone), booking.end.astimezone(zone)
    text = f"{hhmm(start)}–{hhmm(end)}"
    days = (end.date() - start.date()).days
    if days == 1 and end.time() != time(0):
        text += " (next day)"
    elif days > 1:
        text += f" ({end:%a %d %b})"
    return text


def _entry(booking: BookingOut, settings: Settings, labels: dict[str, str]) -> Entry:
    category = "" if booking.private else labels.get(booking.category, "")
    return Entry(
        when=_when(booking, settings),
        title=booking.public_title,
        room=booking.room,
        category=category,
        private=booking.private,
        provisional=booking.status.value == "provisional",
    )


def _query(**params: str) -> str:
    kept = {k: v for k, v in params.items() if v}
    return "/whats-on" + ("?" + urlencode(kept) if kept else "")


@get("/whats-on", opt=PUBLIC, include_in_schema=False)
async def whats_on(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    viewer: Viewer,
    week: FromQuery[str] = "",
    category: FromQuery[str] = "",
    room_id: FromQuery[str] = "",
) -> Template:
    errors: dict[str, str] = {}
    today = settings.today()
    chosen = parse_date(week) if week else today
    if chosen is None:
        errors["week"] = "Enter a date as YYYY-MM-DD, e.g. 2026-03-30."
        chosen = today
    monday = week_start(chosen)
    days = [monday + timedelta(days=i) for i in range(7)]

    room_map = await RoomMap.load(db)
    rooms = bookable_rooms(room_map)
    all_categories = await rooms_settings.categories(db)
    categories = [c for c in all_categories if c.active]
    labels = {c.slug: c.label for c in all_categories}

    category = category.strip()
    if category and category not in {c.slug for c in categories}:
        errors["category"] = "Choose a kind of activity from the list."
        category = ""
    room_filter: int | None = None
    if room_id.strip():
        wanted = room_id.strip()
        match = next((r for r in rooms if str(r.id) == wanted), None)
        if match is None:
            errors["room_id"] = "Choose a room from the list."
        else:
            room_filter = match.id

    zone = settings.zone
    start = combine_local(days[0], time(0), zone)
    end = combine_local(days[-1] + timedelta(days=1), time(0), zone)
    found = await booking_service.list_bookings(
        db,
        None,
        start=start,
        end=end,
        room_ids={room_filter} if room_filter else None,
        category=category or None,
    )
    shown = await visibility.public_bookings(db, settings, found)

    groups = {day: DayGroup(day=day, is_today=day == today) for day in days}
    for booking in shown:
        local_day = max(booking.start.astimezone(zone).date(), days[0])
        if local_day in groups:
            groups[local_day].entries.append(_entry(booking, settings, labels))

    filters = {"category": category, "room_id": str(room_filter or "")}
    shown_as: list[str] = []
    filter_feed: FeedLink | None = None
    if category:
        shown_as.append(labels[category])
        filter_feed = _link(request, labels[category], f"/feeds/categories/{category}.ics")
    if room_filter:
        room_name = room_map.rooms[room_filter].name
        shown_as.append(f"in {room_name}")
        # A feed is either one room or one kind of activity, not both at once.
        filter_feed = None if category else _link(request, room_name, f"/feeds/rooms/{room_filter}.ics")
    this_monday = week_start(today)
    week_param = "" if monday == this_monday else monday.isoformat()
    return render(
        request,
        "rooms/whats_on.html",
        title="What's on",
        errors=errors,
        error_summary=(
            None
            if not errors
            else f"Please correct {'this filter' if len(errors) == 1 else f'these {len(errors)} filters'}."
        ),
        days=[groups[d] for d in days],
        today_group=groups.get(today),
        today=today,
        monday=monday,
        sunday=days[-1],
        is_this_week=monday == this_monday,
        week_value=week if "week" in errors else monday.isoformat(),
        category=category,
        room_filter=room_filter,
        room_options=[(r.id, r.name) for r in rooms],
        category_options=[(c.slug, c.label) for c in categories],
        filtered=bool(category or room_filter),
        shown_as=" ".join(shown_as),
        filter_feed=filter_feed,
        previous_url=_query(week=(monday - timedelta(days=7)).isoformat(), **filters),
        next_url=_query(week=(monday + timedelta(days=7)).isoformat(), **filters),
        this_week_url=_query(**filters),
        clear_url=_query(week=week_param),
        feeds=public_feeds(request, rooms, categories),
        hide_private=visibility.hide_private(settings),
    )


# --- my calendars -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrivateFeed:
    kind: feed_tokens.Kind
    heading: str
    description: str
    created_at: datetime | None
    link: FeedLink | None


def _kind(identity: Identity, kind: str) -> feed_tokens.Kind:
    """Only "user", and "organisation" for an account linked to one; anything else is not found."""
    if kind == "user":
        return "user"
    if kind == "organisation" and identity.organisation_id is not None:
        return "organisation"
    raise NotFound("That calendar was not found.")


async def _private_feeds(
    request: Request[Any, Any, Any], db: AsyncSession, settings: Settings, identity: Identity
) -> list[PrivateFeed]:
    kinds: list[feed_tokens.Kind] = ["user"]
    organisation = ""
    if identity.organisation_id is not None:
        kinds.insert(0, "organisation")  # the one a tenant usually wants
        names = await visibility.organisation_names(db, {identity.organisation_id})
        organisation = names.get(identity.organisation_id, "your organisation")
    feeds = []
    for kind in kinds:
        token = await feed_tokens.current(db, identity, kind)
        link = (
            _link(
                request,
                "",
                f"/feeds/private/{feed_tokens.token_value(settings, token.nonce)}.ics",
            )
            if token is not None
            else None
        )
        if kind == "user":
            heading = "Bookings you made"
            description = "Every booking you made, with its full details."
        else:
            heading = f"{organisation}: all its bookings"
            description = f"Every booking for {organisation}, whoever made it, with full details."
        feeds.append(
            PrivateFeed(
                kind=kind,
                heading=heading,
                description=description,
                created_at=token.created_at if token is not None else None,
                link=link,
            )
        )
    return feeds


@get(CALENDARS_PATH, opt=roles(ALL_ROLES), include_in_schema=False)
async def my_calendars(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller
) -> Template:
    room_map = await RoomMap.load(db)
    categories = [c for c in await rooms_settings.categories(db) if c.active]
    return render(
        request,
        "rooms/my_calendars.html",
        title="My calendars",
        private_feeds=await _private_feeds(request, db, settings, identity),
        feeds=public_feeds(request, bookable_rooms(room_map), categories),
        hide_private=visibility.hide_private(settings),
    )


@post(CALENDARS_PATH + "/{kind:str}/rotate", opt=roles(ALL_ROLES), include_in_schema=False)
async def calendar_rotate(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller, kind: FromPath[str]
) -> Redirect:
    """Make an address, or replace the current one (which stops working at once)."""
    which = _kind(identity, kind)
    had = await feed_tokens.current(db, identity, which) is not None
    await feed_tokens.issue(db, settings, identity, which)
    label = KIND_LABELS[which]
    message = (
        f"New {label} calendar address made. The old one has stopped working: "
        "paste the new one into any calendar app that used it."
        if had
        else f"Your {label} calendar address is ready. Copy it into your calendar app."
    )
    return redirect(request, f"{CALENDARS_PATH}#feed-{which}", message)


@post(CALENDARS_PATH + "/{kind:str}/revoke", opt=roles(ALL_ROLES), include_in_schema=False)
async def calendar_revoke(
    request: Request[Any, Any, Any], db: Db, identity: Caller, kind: FromPath[str]
) -> Redirect:
    which = _kind(identity, kind)
    label = KIND_LABELS[which]
    try:
        await feed_tokens.revoke(db, identity, which)
    except NotFound:
        # Already turned off (a second click, or another tab): say so rather than show an error page.
        return redirect(
            request, f"{CALENDARS_PATH}#feed-{which}", f"The {label} calendar address was already off."
        )
    return redirect(
        request,
        f"{CALENDARS_PATH}#feed-{which}",
        f"{label.capitalize()} calendar address turned off. Calendars that used it will stop updating.",
    )
