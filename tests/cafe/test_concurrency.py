"""Real concurrent requests through a live server: a sale resent at the same moment is recorded once;
two tills ringing at once each keep their own session; two supervisors opening the same till get
one session."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from cafe.models import Sale, SaleLine
from hub.app import create_app
from hub.config import Settings
from tests.cafe.factory import Cafe, make_cafe
from tests.conftest import Hub


@pytest.fixture
def live_url(settings: Settings) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def fire(
    live_url: str, requests: list[tuple[str, str, dict[str, Any], dict[str, str]]]
) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live_url, timeout=60) as client:
            return list(
                await asyncio.gather(
                    *(
                        client.request(method, path, json=body, headers=headers)
                        for method, path, body, headers in requests
                    )
                )
            )

    return asyncio.run(go())


def counts(cafe: Cafe) -> tuple[int, int]:
    async def work(db: Any) -> tuple[int, int]:
        return (
            int(await db.scalar(select(func.count()).select_from(Sale))),
            int(await db.scalar(select(func.count()).select_from(SaleLine))),
        )

    return cafe.hub.run(work)


def test_the_same_sale_sent_ten_times_at_once_is_recorded_once(hub: Hub, live_url: str) -> None:
    cafe = make_cafe(hub)
    body = cafe.sale([cafe.line("Coffee", 2), cafe.line("Cake")], [{"method": "cash", "amount_pence": 800}])
    responses = fire(live_url, [("POST", "/api/v1/cafe/sales", body, cafe.staff)] * 10)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 9 + [201], [r.text[:200] for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert all(r.headers.get("idempotent-replay") == "true" for r in responses if r.status_code == 200)
    assert counts(cafe) == (1, 2)


def test_two_tills_ringing_at_once_keep_to_their_own_sessions(hub: Hub, live_url: str) -> None:
    cafe = make_cafe(hub)
    window = cafe.post(
        "/api/v1/cafe/sessions", {"till_id": cafe.window, "float_pence": 2000}, as_supervisor=True
    )
    window_session = window.json()["id"]
    requests = []
    for index in range(12):
        on_window = index % 2 == 1
        body = {
            "uuid": str(uuid.uuid4()),
            "session_id": window_session if on_window else cafe.session,
            "till_id": cafe.window if on_window else cafe.counter,
            "rung_at": datetime.now(UTC).isoformat(),
            "lines": [cafe.line("Tea" if on_window else "Coffee")],
            "tenders": [{"method": "cash", "amount_pence": 180 if on_window else 250}],
        }
        requests.append(("POST", "/api/v1/cafe/sales", body, cafe.staff))
    responses = fire(live_url, requests)
    assert [r.status_code for r in responses] == [201] * 12, [r.text[:200] for r in responses]
    counter = cafe.get(f"/api/v1/cafe/sessions/{cafe.session}/report").json()
    window_report = cafe.get(f"/api/v1/cafe/sessions/{window_session}/report").json()
    assert (counter["sales"], counter["gross_pence"]) == (6, 1500)
    assert (window_report["sales"], window_report["gross_pence"]) == (6, 1080)


def test_two_supervisors_opening_one_till_at_once_get_one_session(hub: Hub, live_url: str) -> None:
    cafe = make_cafe(hub)
    body = {"till_id": cafe.window, "float_pence": 2000}
    responses = fire(live_url, [("POST", "/api/v1/cafe/sessions", body, cafe.supervisor)] * 6)
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5, [r.text[:200] for r in responses]
    opened = [
        s for s in cafe.get("/api/v1/cafe/sessions", status="open").json() if s["till_id"] == cafe.window
    ]
    assert len(opened) == 1
