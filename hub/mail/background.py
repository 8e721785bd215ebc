"""The sender the app runs while it serves: a background task that sends what is due after each
commit that queued mail (and every few seconds in case another process queued it), and every few
minutes asks the modules for messages that fall due at a time (:data:`hub.mail.SCHEDULED`).

With no ``HUB_SMTP_URL`` the task still runs the scheduled providers, so that a reminder due
while the server was unset is queued and waits in the outbox (the admin page shows it), but it
never tries to send. Nothing here can stop the app from starting or serving: every error is
logged and the loop goes on; on shutdown the task is cancelled before the database closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.db import utcnow
from hub.mail import SCHEDULED, off_commit, on_commit
from hub.mail.sender import DEFAULT_BATCH, send_due

if TYPE_CHECKING:
    from litestar import Litestar

    from hub.config import Settings
    from hub.modules import Registry

logger = logging.getLogger("hub.mail")

# How often the outbox is looked at without a wake-up (another worker or the CLI queued mail, or
# a retry fell due), and how often the scheduled providers are asked (the first time one interval
# after start, so a starting app does nothing but start).
POLL_SECONDS = 5.0
SCHEDULE_SECONDS = 300.0


@dataclass
class SenderTimings:
    poll_seconds: float = POLL_SECONDS
    schedule_seconds: float = SCHEDULE_SECONDS


async def run_scheduled(app: Litestar, settings: Settings) -> int:
    """Ask every module's :data:`SCHEDULED` provider, each in its own session; answer how many
    messages they queued. A provider that fails is logged and the others still run."""
    registry: Registry = app.state["registry"]
    queued = 0
    for provider in registry.provided(SCHEDULED):
        try:
            async with app.state.sessionmaker(bind=app.state.write_engine) as db:
                queued += int(await provider(db, settings, utcnow()))
        except Exception:
            logger.exception("mail: scheduled messages from %r failed", provider)
    return queued


async def _loop(app: Litestar, settings: Settings, wake: asyncio.Event, timings: SenderTimings) -> None:
    loop = asyncio.get_running_loop()
    next_schedule = loop.time() + timings.schedule_seconds
    while True:
        timeout = max(0.0, min(timings.poll_seconds, next_schedule - loop.time()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout)
        wake.clear()
        if loop.time() >= next_schedule:
            next_schedule = loop.time() + timings.schedule_seconds
            await run_scheduled(app, settings)
        if settings.smtp is None:
            continue
        try:
            # Keep going while full batches come back: a backlog drains without waiting a poll.
            while True:
                result = await send_due(app.state.write_engine, settings)
                if result.tried < DEFAULT_BATCH or result.tried == result.retrying + result.failed:
                    break
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("mail: the sender failed; it tries again at its next poll")


def sender_lifespan(
    settings: Settings, timings: SenderTimings | None = None
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """The lifespan that runs the sender beside the app (after the database lifespan)."""
    timings = timings or SenderTimings()

    @asynccontextmanager
    async def mail_sender(app: Litestar) -> AsyncIterator[None]:
        wake = asyncio.Event()
        loop = asyncio.get_running_loop()

        def wake_up() -> None:
            # A commit may happen on another thread's loop (tests run apps on portals).
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)

        on_commit(wake_up)
        task: asyncio.Task[Any] = asyncio.create_task(_loop(app, settings, wake, timings), name="hub-mail")
        try:
            yield
        finally:
            off_commit(wake_up)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    return mail_sender
