"""The rooms module's JSON API under /api/v1."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from rooms.controllers.bookings import BookingController, SeriesController
from rooms.controllers.feeds import building_feed, category_feed, private_feed, room_feed
from rooms.controllers.rooms import (
    RoomController,
    add_closure,
    get_opening_hours,
    list_categories,
    list_closures,
    list_rates,
    put_category,
    put_opening_hours,
    quote,
    rooms_free,
    set_rate,
)

API_ROUTES: list[ControllerRouterHandler] = [
    RoomController,
    BookingController,
    SeriesController,
    list_rates,
    set_rate,
    quote,
    rooms_free,
    get_opening_hours,
    put_opening_hours,
    list_closures,
    add_closure,
    list_categories,
    put_category,
    building_feed,
    room_feed,
    category_feed,
    private_feed,
]
