"""The cafe pages (server-rendered; thin in the same way as the API)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

ROUTES: list[ControllerRouterHandler] = []
