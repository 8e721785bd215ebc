"""GET /healthz — for load balancers and uptime checks: is the database reachable?"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from litestar import get
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hub.auth import PUBLIC
from hub.deps import Db
from hub.errors import ServiceUnavailable
from hub.schemas import Health

try:
    VERSION = version("hubkeeper")
except PackageNotFoundError:  # running from a source tree that was not installed
    VERSION = "0+unknown"


@get("/healthz", opt=PUBLIC, tags=["health"], summary="Liveness and database check", cache=False)
async def healthz(db: Db) -> Health:
    try:
        await db.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        raise ServiceUnavailable("The database cannot be reached.") from exc
    return Health(status="ok", database="ok", version=VERSION)
