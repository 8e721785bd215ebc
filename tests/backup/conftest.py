"""Helpers for the backup tests: run ``hubkeeper`` in-process, look inside a database, and a second,
empty database to restore into (a new SQLite file, or a new PostgreSQL database)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.commands import run_with_db
from hub.config import Settings, sqlite_path
from hub.models import Organisation
from tests.conftest import backend, fresh_postgres_database


def hubkeeper(args: list[str], database_url: str, backup_dir: Path, **env: str) -> Result:
    """``hubkeeper ARGS`` in this process, with the given database and backup folder."""
    from hub.cli import main

    environment = {
        "HUB_DATABASE_URL": database_url,
        "HUB_BACKUP_DIR": str(backup_dir),
        # Uploaded files a restore puts back land beside the test's backups, never in the checkout.
        "HUB_DATA_DIR": str(backup_dir.parent / "data"),
        "HUB_ENV": "test",
        **env,
    }
    return CliRunner().invoke(main, args, env=environment, catch_exceptions=False)


def at(settings: Settings, database_url: str) -> Settings:
    return replace(settings, database_url=database_url)


def organisation_names(settings: Settings) -> set[str]:
    async def work(db: AsyncSession) -> set[str]:
        return set((await db.scalars(select(Organisation.name))).all())

    return run_with_db(settings, work, write=False)


def revision(settings: Settings) -> str:
    async def work(db: AsyncSession) -> str:
        return str(await db.scalar(text("SELECT version_num FROM alembic_version")))

    return run_with_db(settings, work, write=False)


def set_revision(settings: Settings, value: str) -> None:
    async def work(db: AsyncSession) -> None:
        await db.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": value})
        await db.commit()

    run_with_db(settings, work)


def fingerprint(settings: Settings) -> tuple[Any, ...]:
    """What a refused restore must leave exactly as it was."""
    path = sqlite_path(settings.database_url)
    if path is not None:
        # The file itself, and anything a restore would put beside it (temporary or kept copies).
        folder = sorted(p.name for p in path.parent.iterdir() if path.name in p.name)
        return (hashlib.sha256(path.read_bytes()).hexdigest(), folder)
    return (revision(settings), sorted(organisation_names(settings)))


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it yet, to restore into."""
    if backend() == "postgresql":
        with fresh_postgres_database() as url:
            yield url
        return
    yield f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'hub.sqlite3'}"


@pytest.fixture
def backups(tmp_path: Path) -> Path:
    return tmp_path / "backups"
