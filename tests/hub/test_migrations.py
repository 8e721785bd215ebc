"""The schema is made only by migrations: they match the models, and go down and up again."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hub import migrations
from hub.app import seed_demo
from hub.billing.demo import demo_settings
from hub.billing.models import Charge, LedgerEntry
from hub.cli import main
from hub.commands import run_with_db
from hub.config import Settings
from hub.db import create_engine
from hub.migrations import target_metadata
from hub.models import Organisation
from hub.plugin import CORE
from rooms.plugin import ROOMS
from tests.conftest import backend, base_settings, fresh_postgres_database


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


# --- 0006: income streams come from the modules -------------------------------------------------


def _insert_charge(connection: Connection, stream: str) -> None:
    org_id = connection.execute(select(Organisation.id).order_by(Organisation.id).limit(1)).scalar_one()
    connection.execute(
        insert(Charge).values(
            organisation_id=org_id,
            description="Locker hire",
            supply_date=date(2026, 12, 1),
            net_pence=500,
            vat_rate_bp=0,
            vat_pence=0,
            stream=stream,
            source_type="manual",
        )
    )


def _stream_allowed(settings: Settings, stream: str) -> bool:
    """Whether the database takes a charge earning into ``stream`` (rolled back either way)."""

    def work(connection: Connection) -> bool:
        try:
            with connection.begin_nested():
                _insert_charge(connection, stream)
                raise _RolledBack
        except IntegrityError:
            return False
        except _RolledBack:
            return True

    return bool(_with_connection(settings, work))


class _RolledBack(Exception):
    pass


def _streams(connection: Connection) -> list[tuple[str, int]]:
    rows = connection.execute(text("SELECT stream, count(*) FROM charges GROUP BY stream ORDER BY stream"))
    return [(str(stream), int(count)) for stream, count in rows]


def _with_an_organisation(settings: Settings) -> None:
    def work(connection: Connection) -> None:
        connection.execute(
            insert(Organisation).values(
                name="Harbour Lockers", name_key="harbour lockers", kind="vcse", default_rate_band="community"
            )
        )
        connection.commit()

    _with_connection(settings, work)


def test_0006_lets_any_module_stream_in_and_downgrade_puts_the_fixed_list_back(settings: Settings) -> None:
    _with_an_organisation(settings)
    # At head a module's own stream (a locker module's, say) is the services' business, not the
    # database's.
    assert _stream_allowed(settings, "lockers") is True
    migrations.downgrade(settings, "0005")
    assert _stream_allowed(settings, "lockers") is False
    assert _stream_allowed(settings, "room_hire") is True
    migrations.upgrade(settings)
    assert _stream_allowed(settings, "lockers") is True
    assert _with_connection(settings, _diff) == []


def test_0006_on_a_copy_of_the_demo_keeps_every_stream_and_the_ledger_reconciles(
    tmp_path: Path,
) -> None:
    # The core's and rooms' part of the demo: the money history a hub held before 0006. (The café's
    # pay-it-forward pool and tenants' deposits use 0007's held-money accounts, which by design
    # refuse a downgrade below 0007 while any entry uses them — see the next test.)
    with ExitStack() as cleanup:
        if backend() == "postgresql":
            url = cleanup.enter_context(fresh_postgres_database())
        else:
            url = f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}"
        demo = demo_settings(base_settings(url))
        migrations.upgrade(demo)
        run_with_db(demo, lambda db: seed_demo(db, demo, modules=[CORE, ROOMS]))
        streams = _with_connection(demo, _streams)
        assert {"other", "room_hire"} <= {stream for stream, _ in streams}
        migrations.downgrade(demo, "0005")  # the demo as a hub would hold it before 0006
        assert _with_connection(demo, _streams) == streams
        migrations.upgrade(demo)
        assert _with_connection(demo, _streams) == streams
        assert _with_connection(demo, _diff) == []
        env = {
            "HUB_ENV": "test",
            "HUB_DATABASE_URL": url,
            "HUB_SUPPLIER_ADDRESS": "The Old Hospital; Pharos Street; Fleetwood; FY7 6BE",
        }
        check = CliRunner().invoke(main, ["ledger", "check"], env=env)
        assert check.exit_code == 0, check.output
        assert check.output.startswith("OK: ") and "; 0 problem(s)." in check.output


def test_0007_refuses_to_go_below_it_while_money_is_held() -> None:
    """A deposit held (or a pay-it-forward gift) would lose its account below 0007: the downgrade
    refuses and leaves the ledger as it was."""
    with ExitStack() as cleanup:
        if backend() == "postgresql":
            url = cleanup.enter_context(fresh_postgres_database())
        else:
            folder = cleanup.enter_context(TemporaryDirectory())
            url = f"sqlite+aiosqlite:///{folder}/held.sqlite3"
        held = base_settings(url)
        migrations.upgrade(held)

        def hold(connection: Connection) -> None:
            for account, amount in (("bank", 50_000), ("deposits_held", -50_000)):
                connection.execute(
                    insert(LedgerEntry).values(
                        journal="DEP-1",
                        entry_date=date(2026, 12, 1),
                        account=account,
                        amount_pence=amount,
                        source_type="agreement",
                        source_id="1",
                        description="Deposit received",
                    )
                )
            connection.commit()

        _with_connection(held, hold)
        with pytest.raises(RuntimeError, match="cannot go below 0007"):
            migrations.downgrade(held, "0006")
        count = _with_connection(
            held, lambda c: c.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()
        )
        assert count == 2
