"""Mounts the rooms module: its API, the reception desk pages, and their navigation."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from rooms.controllers.bookings import BookingController, SeriesController
from rooms.controllers.rooms import RoomController, list_rates, quote, rooms_free, set_rate


class RoomsPlugin(InitPluginProtocol):
    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend(
            [RoomController, BookingController, SeriesController, list_rates, set_rate, quote, rooms_free]
        )
        return app_config
