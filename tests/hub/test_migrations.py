"""The schema is made only by migrations: they match the models, and go down and up again."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from hub import migrations
from hub.config import Settings
from hub.db import create_engine
from hub.migrations import target_metadata


def _with_connection(settings: Settings, work):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        engine = create_engine(settings)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, target_metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def test_models_and_migrations_agree(settings: Settings) -> None:
    assert _with_connection(settings, _diff) == []


def test_upgrade_downgrade_upgrade(settings: Settings) -> None:
    expected = {t.name for t in target_metadata.sorted_tables}
    assert expected <= _with_connection(settings, _tables)
    migrations.downgrade(settings, "base")
    assert _with_connection(settings, _tables) - {"alembic_version"} == set()
    migrations.upgrade(settings)
    assert expected <= _with_connection(settings, _tables)
    assert _with_connection(settings, _diff) == []
