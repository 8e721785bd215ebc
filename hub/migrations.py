"""Run Alembic migrations from code (the CLI, tests, the demo). The schema is made only here."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

from hub.app import load_all_models
from hub.config import Settings

target_metadata: MetaData = load_all_models()

SCRIPT_LOCATION = Path(__file__).resolve().parent.parent / "alembic"


def alembic_config(settings: Settings) -> Config:
    if not SCRIPT_LOCATION.is_dir():
        raise RuntimeError(
            f"migrations not found at {SCRIPT_LOCATION}: install Hubkeeper from its source tree"
        )
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["settings"] = settings
    return config


def _in_thread(fn: object) -> None:
    # env.py calls asyncio.run(); inside a running loop that must happen on another thread.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        fn()  # type: ignore[operator]
        return
    import threading

    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn()  # type: ignore[operator]
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def upgrade(settings: Settings, revision: str = "head") -> None:
    _in_thread(lambda: command.upgrade(alembic_config(settings), revision))


def downgrade(settings: Settings, revision: str) -> None:
    _in_thread(lambda: command.downgrade(alembic_config(settings), revision))


def current(settings: Settings) -> None:
    _in_thread(lambda: command.current(alembic_config(settings), verbose=True))
