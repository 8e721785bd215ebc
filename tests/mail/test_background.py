"""The sender the app runs beside itself: mail queued by a request goes out after commit without
anyone running a command; the modules' scheduled messages are asked for; nothing here can stop
the app from starting."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import mail
from hub.app import create_app, default_modules
from hub.config import Settings
from hub.mail import SCHEDULED, MailMessage
from hub.mail.background import run_scheduled
from hub.modules import Module
from tests.mail.conftest import MailServer


def _run(client: TestClient[Any], work: Any) -> Any:
    async def call() -> Any:
        state = client.app.state
        async with state.sessionmaker(bind=state.write_engine) as db:
            return await work(db)

    return client.blocking_portal.call(call)


async def _queue(db: AsyncSession) -> None:
    await mail.enqueue(db, kind="test_message", to="sam@example.org", subject="Hello", text="Hi.\n")
    await db.commit()


def test_mail_queued_in_the_app_is_sent_after_commit_by_the_app_itself(
    settings: Settings, smtp_server: MailServer
) -> None:
    app = create_app(smtp_server.settings_for(settings))
    with TestClient(app, base_url="http://testserver.local") as client:
        _run(client, _queue)
        deadline = time.monotonic() + 10
        while not smtp_server.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(smtp_server.received) == 1

        async def status(db: AsyncSession) -> list[str]:
            return list(await db.scalars(select(MailMessage.status)))

        assert _run(client, status) == ["sent"]


def test_an_app_with_no_mail_server_starts_and_keeps_its_mail(settings: Settings) -> None:
    assert settings.smtp is None
    with TestClient(create_app(settings), base_url="http://testserver.local") as client:
        _run(client, _queue)
        time.sleep(0.2)
        assert client.get("/healthz").status_code == 200

        async def status(db: AsyncSession) -> list[tuple[str, int]]:
            return [(m.status, m.attempts) for m in await db.scalars(select(MailMessage))]

        assert _run(client, status) == [("pending", 0)]


calls: list[datetime] = []


async def _reminders(db: AsyncSession, settings: Settings, now: datetime) -> int:
    calls.append(now)
    message = await mail.enqueue(
        db,
        kind="hold_expiring",
        to="desk@example.org",
        subject="A hold expires",
        text="Soon.\n",
        dedupe_key="hold:1",
    )
    await db.commit()
    return 0 if message is None else 1


async def _broken(db: AsyncSession, settings: Settings, now: datetime) -> int:
    raise RuntimeError("this module's reminders are broken")


REMINDERS = Module(name="reminders", provides={SCHEDULED: _reminders})
BROKEN = Module(name="broken", provides={SCHEDULED: _broken})


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()}: {record.exc_info[1] if record.exc_info else ''}")


def test_scheduled_messages_are_queued_once_and_a_broken_provider_harms_no_other(settings: Settings) -> None:
    calls.clear()
    kept = _Kept()
    logging.getLogger("hub.mail").addHandler(kept)
    app = create_app(replace(settings), modules=[*default_modules(), BROKEN, REMINDERS])
    with TestClient(app, base_url="http://testserver.local") as client:
        first = client.blocking_portal.call(run_scheduled, app, settings)
        second = client.blocking_portal.call(run_scheduled, app, settings)

        async def kinds(db: AsyncSession) -> list[str]:
            return list(await db.scalars(select(MailMessage.kind)))

        assert (first, second, _run(client, kinds)) == (1, 0, ["hold_expiring"])
    logging.getLogger("hub.mail").removeHandler(kept)
    assert len(calls) == 2
    assert [line.endswith(": this module's reminders are broken") for line in kept.lines] == [True, True]
