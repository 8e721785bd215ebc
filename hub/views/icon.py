"""The hub's icon at the address browsers ask for first (``/favicon.ico``); pages also link the SVG."""

from __future__ import annotations

from pathlib import Path

from litestar import get
from litestar.response import File

from hub.auth import PUBLIC

ICON = Path(__file__).parent.parent / "static" / "favicon.ico"


@get("/favicon.ico", opt=PUBLIC, include_in_schema=False, cache=86400)
async def favicon() -> File:
    return File(path=ICON, media_type="image/x-icon", content_disposition_type="inline")
