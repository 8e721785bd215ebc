"""/feeds/*.ics — the building's schedule for calendar apps (public feeds, and private ones
behind a secret token). Conditional requests answer 304 without building the feed; a full answer
comes from the bytes built once for the feed's current ETag."""

from __future__ import annotations

import re
from datetime import date
from email.utils import format_datetime
from typing import Annotated, Any

from litestar import Request, Response, route
from litestar.enums import HttpMethod
from litestar.params import FromPath, QueryParameter

from hub.auth import PUBLIC, STAFF
from hub.db import is_valid_id, utcnow
from hub.deps import Db, SettingsDep
from hub.errors import InvalidInput, NotFound
from hub.models import Role, User
from rooms.models import BookingCategory, Room
from rooms.services import feed_tokens, visibility
from rooms.services.feeds import MAX_WINDOW, FeedScope, Window, feed_body, feed_version, uid_domain

CALENDAR = "text/calendar"  # Litestar adds "; charset=utf-8"
FEED_METHODS = [HttpMethod.GET, HttpMethod.HEAD]
_ICS = re.compile(r"^(?P<key>[A-Za-z0-9_-]{1,100})\.ics$")

WindowFrom = Annotated[
    date | None, QueryParameter(name="from", description="first local date (default: 3 months ago)")
]
WindowTo = Annotated[
    date | None, QueryParameter(description="last local date, exclusive (default: 18 months ahead)")
]


def _key(filename: str, what: str) -> str:
    match = _ICS.match(filename)
    if match is None:
        raise NotFound(f"That {what} feed was not found.")
    return match.group("key")


def _window(settings: Any, first: date | None, last: date | None) -> Window:
    default = Window.default(settings)
    # Any date a client can send is served (the edges of the calendar included): only the two
    # rules below refuse a window.
    window = Window(first or default.start, last or default.end)
    # Well-formed dates that break a feed's rules: 422, as for every other rule.
    if window.end <= window.start:
        raise InvalidInput("must be after from", field="to")
    if window.end - window.start > MAX_WINDOW:
        raise InvalidInput("a feed covers at most three years; narrow from and to", field="to")
    return window


async def _serve(
    request: Request[Any, Any, Any],
    db: Any,
    settings: Any,
    scope: FeedScope,
    window: Window,
    *,
    private: bool,
) -> Response[bytes]:
    now = utcnow()  # one instant for the version and the body: a hold expires for both or neither
    hub_name, host = settings.hub_name, uid_domain(settings.hub_name)
    version = await feed_version(db, scope, window, settings, hub_name=hub_name, host=host, now=now)
    headers = {
        "ETag": version.etag,
        "Last-Modified": format_datetime(version.modified, usegmt=True),
        # Calendar apps poll; a few minutes' caching spares the hub, and a change shows within that.
        "Cache-Control": ("private" if private else "public") + ", max-age=300",
        "Content-Disposition": 'inline; filename="calendar.ics"',
    }
    if _matches(request.headers.get("if-none-match"), version.etag):
        return Response(content=b"", status_code=304, headers=headers, media_type=CALENDAR)
    body, sent = await feed_body(db, settings, scope, window, version, hub_name=hub_name, host=host, now=now)
    if sent is None:
        # Bookings changed while the body was built: send it, but promise nothing about it.
        del headers["ETag"], headers["Last-Modified"]
        headers["Cache-Control"] = "no-cache"
    elif sent != version:
        headers["ETag"] = sent.etag
        headers["Last-Modified"] = format_datetime(sent.modified, usegmt=True)
    if request.method == HttpMethod.HEAD:
        headers["Content-Length"] = str(len(body))
        return Response(content=b"", headers=headers, media_type=CALENDAR)
    return Response(content=body, headers=headers, media_type=CALENDAR)


def _matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match holds ``*`` or a list of entity tags, compared weakly (RFC 9110 §13.1.2)."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def _public(settings: Any, name: str, **kwargs: Any) -> FeedScope:
    return FeedScope(name=name, audience="public", hide_private=visibility.hide_private(settings), **kwargs)


@route(
    "/feeds/building.ics", http_method=FEED_METHODS, opt=PUBLIC, tags=["feeds"], summary="The whole building"
)
async def building_feed(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    from_: WindowFrom = None,
    to: WindowTo = None,
) -> Response[bytes]:
    window = _window(settings, from_, to)
    return await _serve(request, db, settings, _public(settings, "the building"), window, private=False)


@route(
    "/feeds/rooms/{room_file:str}", http_method=FEED_METHODS, opt=PUBLIC, tags=["feeds"], summary="One room"
)
async def room_feed(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    room_file: FromPath[str],
    from_: WindowFrom = None,
    to: WindowTo = None,
) -> Response[bytes]:
    key = _key(room_file, "room")
    room = await db.get(Room, int(key)) if key.isdigit() and is_valid_id(int(key)) else None
    if room is None or not room.active:
        raise NotFound("That room feed was not found.")
    window = _window(settings, from_, to)
    scope = _public(settings, room.name, room_ids=frozenset({room.id}))
    return await _serve(request, db, settings, scope, window, private=False)


@route(
    "/feeds/categories/{category_file:str}",
    http_method=FEED_METHODS,
    opt=PUBLIC,
    tags=["feeds"],
    summary="One kind of activity",
)
async def category_feed(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    category_file: FromPath[str],
    from_: WindowFrom = None,
    to: WindowTo = None,
) -> Response[bytes]:
    category = await db.get(BookingCategory, _key(category_file, "category"))
    if category is None or not category.active:
        raise NotFound("That category feed was not found.")
    window = _window(settings, from_, to)
    scope = _public(settings, category.label, category=category.slug)
    return await _serve(request, db, settings, scope, window, private=False)


@route(
    "/feeds/private/{token_file:str}",
    http_method=FEED_METHODS,
    opt=PUBLIC,
    tags=["feeds"],
    summary="An organisation's or a person's own bookings (secret address)",
)
async def private_feed(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    token_file: FromPath[str],
    from_: WindowFrom = None,
    to: WindowTo = None,
) -> Response[bytes]:
    token = await feed_tokens.resolve(db, settings, _key(token_file, "calendar"))
    if token is None:
        raise NotFound("That calendar feed was not found.")
    window = _window(settings, from_, to)
    base = str(request.base_url).rstrip("/")
    if token.kind == "organisation":
        scope = FeedScope(name="our bookings", audience="full", organisation_id=token.organisation_id)
    else:
        user = await db.get(User, token.user_id)
        if user is None or not user.active:
            raise NotFound("That calendar feed was not found.")
        staff = Role(user.role) in STAFF
        scope = FeedScope(
            name="bookings I made",
            audience="full",
            created_by_id=user.id,
            link_base=f"{base}/desk/bookings/" if staff else None,
        )
    return await _serve(request, db, settings, scope, window, private=True)
