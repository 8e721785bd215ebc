"""/api/v1/audit — admins read and filter the audit log. It has no write route."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import get
from litestar.params import FromQuery, QueryParameter

from hub.auth import ADMIN_ONLY, roles
from hub.deps import Db
from hub.errors import InvalidInput
from hub.schemas import AuditPage
from hub.services import audit as service


@get("/api/v1/audit", opt=roles(ADMIN_ONLY), tags=["audit"], summary="The audit log, newest first")
async def list_audit(
    db: Db,
    actor_id: Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)] = None,
    action: Annotated[
        str | None, QueryParameter(max_length=64, description="prefix, e.g. 'user' or 'user.locked'")
    ] = None,
    object_type: Annotated[str | None, QueryParameter(max_length=64)] = None,
    object_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
    since: FromQuery[datetime | None] = None,
    until: FromQuery[datetime | None] = None,
    page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
) -> AuditPage:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput("must include a UTC offset, e.g. 2026-11-01T09:00:00Z", field=name)
    if since is not None and until is not None and until <= since:
        raise InvalidInput("must be after since", field="until")
    return await service.list_entries(
        db,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        since=since,
        until=until,
        page=page,
        per_page=per_page,
    )
