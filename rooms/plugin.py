"""Mounts the rooms module: its API, the reception desk pages, and their navigation."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from hub.auth import ALL_ROLES, STAFF
from hub.models import Role
from hub.web import NavItem
from rooms.controllers import API_ROUTES
from rooms.views import ROUTES


class RoomsPlugin(InitPluginProtocol):
    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend(API_ROUTES)
        app_config.route_handlers.extend(ROUTES)
        app_config.state.setdefault("nav", []).extend(
            [
                NavItem("Desk", "/desk", frozenset(STAFF), order=10),
                NavItem("Bookings", "/calendar", frozenset({Role.TRUSTEE, Role.TENANT}), order=10),
                NavItem("What's on", "/whats-on", frozenset(STAFF | {Role.TRUSTEE, Role.TENANT}), order=15),
                NavItem("My calendars", "/account/calendars", frozenset(ALL_ROLES), order=88),
            ]
        )
        return app_config
