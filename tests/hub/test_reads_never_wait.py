"""A read never waits for, or takes, the write lock: with another writer holding it, every GET
and HEAD route still answers, whoever calls (nobody, a bearer token, a session cookie).

The lock is held from outside the app, as another worker process would hold it: on SQLite a
second connection sits in ``BEGIN IMMEDIATE``; on PostgreSQL a transaction holds every table in
EXCLUSIVE mode (which lets plain reads through and stops every write, row locks included).
A read that tried to write would wait for the holder and miss the client's timeout.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import select

from hub.auth import SESSION_COOKIE
from hub.models import ApiToken, Role
from hub.services import accounts
from tests.conftest import PASSWORD, Hub, backend
from tests.rooms.conftest import Building, building, live_url  # noqa: F401 - fixtures used here

# Well above any read's cost here, well below SQLite's busy timeout (10 s): a read that waited for
# the lock would run out of time.
READ_TIMEOUT_SECONDS = 4.0


@contextmanager
def write_lock_held(database_url: str) -> Iterator[None]:
    if backend() == "sqlite":
        path = database_url.split("///", 1)[1]
        holder = sqlite3.connect(path, isolation_level=None, timeout=1)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    import asyncpg

    locked = threading.Event()
    done = threading.Event()
    failure: list[BaseException] = []

    async def hold() -> None:
        dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
        conn = await asyncpg.connect(dsn)
        try:
            async with conn.transaction():
                tables = [
                    r["tablename"]
                    for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                ]
                for table in tables:
                    await conn.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
                locked.set()
                await asyncio.to_thread(done.wait, 60)
        finally:
            await conn.close()

    def run() -> None:
        try:
            asyncio.run(hold())
        except BaseException as exc:  # surfaced below, so a broken holder fails the test
            failure.append(exc)
            locked.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert locked.wait(20), "could not take the write lock"
    assert not failure, failure
    try:
        yield
    finally:
        done.set()
        thread.join(20)


def _get_routes(hub: Hub) -> list[tuple[str, str]]:
    """Every GET/HEAD route of the app, as (method, path template)."""
    found = []
    for route in hub.client.app.routes:
        methods = getattr(route, "methods", set())
        for method in ("GET", "HEAD"):
            if method in methods:
                found.append((method, route.path))
    return found


def _fill(path: str, ids: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2)
        if name in ids:
            return str(ids[name])
        return "1" if kind == "int" else "1.ics"

    return re.sub(r"\{(\w+):(\w+)\}", value, path)


QUERIES = {
    "/api/v1/bookings": "?from=2026-12-01&to=2026-12-07",
    "/api/v1/availability": "?date=2026-12-01&start=10:00&end=12:00",
    "/api/v1/rooms/{room_id:int}/free-slots": "?date=2026-12-01&days=7",
    "/desk": "?date=2026-12-01",
    "/calendar": "?date=2026-12-01",
    "/whats-on": "?from=2026-12-01",
}


def test_every_get_answers_while_another_writer_holds_the_lock(
    hub: Hub,
    building: Building,  # noqa: F811
    live_url: str,  # noqa: F811
    database_url: str,
) -> None:
    # Something to read: a booking, a hold, a series, and callers of each kind.
    staff = building.staff
    booking = hub.client.post(
        "/api/v1/bookings",
        headers=staff,
        json={
            "room_id": building.meeting,
            "organisation_id": building.charity,
            "title": "Youth forum",
            "start": "2026-12-01T14:00:00",
            "end": "2026-12-01T16:00:00",
        },
    ).json()
    series = hub.client.post(
        "/api/v1/series",
        headers=staff,
        json={
            "room_id": building.hall_a,
            "organisation_id": building.charity,
            "title": "Tuesday class",
            "first_date": "2026-12-01",
            "start_time": "10:00",
            "end_time": "11:00",
            "rule": {"freq": "weekly", "count": 3},
        },
    )
    assert series.status_code == 201, series.text
    admin = hub.make_user(Role.ADMIN)
    admin_token = {"Authorization": f"Bearer {hub.token_for(admin)}"}
    tenant_token = hub.headers_for(Role.TENANT, organisation_id=building.charity)
    secret, _ = hub.run(
        lambda db: accounts.login(
            db, hub.client.app.state.settings, admin.email, PASSWORD, ip_address="127.0.0.1"
        )
    )
    ids = {
        "booking_id": booking["id"],
        "series_id": series.json()["id"],
        "room_id": building.meeting,
        "organisation_id": building.charity,
        "user_id": admin.id,
        "room_file": f"{building.meeting}.ics",
        "category_file": "class.ics",
        "file_path": "hub.css",
    }
    callers: dict[str, dict[str, Any]] = {
        "nobody": {},
        "admin token": {"headers": admin_token},
        "tenant token": {"headers": tenant_token},
        "admin session": {"cookies": {SESSION_COOKIE: secret}},
    }
    routes = _get_routes(hub)
    assert ("GET", "/api/v1/closures") in routes and (
        "HEAD",
        "/feeds/categories/{category_file:str}",
    ) in routes

    failures = []
    answered = 0
    with write_lock_held(database_url):
        for name, credentials in callers.items():
            with httpx.Client(
                base_url=live_url, timeout=READ_TIMEOUT_SECONDS, cookies=credentials.get("cookies")
            ) as client:
                for method, template in routes:
                    url = _fill(template, ids) + QUERIES.get(template, "")
                    try:
                        response = client.request(method, url, headers=credentials.get("headers"))
                    except httpx.TimeoutException:
                        failures.append(f"{name}: {method} {url} waited more than {READ_TIMEOUT_SECONDS} s")
                        continue
                    if response.status_code >= 500:
                        failures.append(f"{name}: {method} {url} answered {response.status_code}")
                    answered += 1
    assert failures == []
    assert answered == len(callers) * len(routes)


def test_a_read_records_its_tokens_last_use_after_answering(
    hub: Hub,
    building: Building,  # noqa: F811
    live_url: str,  # noqa: F811
    database_url: str,
) -> None:
    """While the lock is held a read with a token still answers; the token's last-used time is
    recorded after a read's response, once nobody holds the lock."""
    user = hub.make_user(Role.RECEPTIONIST)
    headers = {"Authorization": f"Bearer {hub.token_for(user)}"}
    with (
        write_lock_held(database_url),
        httpx.Client(base_url=live_url, timeout=READ_TIMEOUT_SECONDS) as client,
    ):
        assert client.get("/api/v1/closures", headers=headers).status_code == 200
    assert hub.client.get("/api/v1/closures", headers=headers).status_code == 200
    used = hub.run(lambda db: db.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == user.id)))
    assert used is not None
