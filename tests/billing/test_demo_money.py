"""The demo's money reconciles: ``hubkeeper ledger check`` passes on it, and ``hubkeeper billing
run`` invoices the demo's booking charges once, however often it is run."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from hub.billing.demo import HISTORY
from hub.cli import main
from hub.db import create_engine
from tests.conftest import backend, base_settings, fresh_postgres_database


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with ExitStack() as cleanup:
        if backend() == "postgresql":
            url = cleanup.enter_context(fresh_postgres_database())
            arguments = ["--database-url", url]
        else:
            path = tmp_path_factory.mktemp("money-demo") / "demo.sqlite3"
            url = f"sqlite+aiosqlite:///{path}"
            arguments = ["--database", str(path)]
        result = CliRunner().invoke(main, ["demo", "--no-serve", *arguments], env={"HUB_ENV": ""})
        assert result.exit_code == 0, result.output
        yield url


def _env(url: str) -> dict[str, str]:
    return {
        "HUB_ENV": "test",
        "HUB_DATABASE_URL": url,
        "HUB_SUPPLIER_ADDRESS": "The Old Hospital; Pharos Street; Fleetwood; FY7 6BE",
    }


def test_the_ledger_check_passes_on_the_demo(demo_url: str) -> None:
    result = CliRunner().invoke(main, ["ledger", "check"], env=_env(demo_url))
    assert result.exit_code == 0, result.output
    # The check covers every document and payment the demo holds: the money history (HISTORY), the
    # art group's credit note, the carers' draft, and the tenants' rent invoices and payments.
    documents, paid = _counts(demo_url)
    assert documents > len(HISTORY) + 2
    assert paid > sum(1 for item in HISTORY if item.paid != "none")
    assert f"; {documents} invoices and credit notes, {paid} payments checked; 0 problem(s)." in result.output
    assert result.output.startswith("OK: ")


def _counts(url: str) -> tuple[int, int]:
    async def count() -> tuple[int, int]:
        engine = create_engine(base_settings(url))
        try:
            async with engine.connect() as connection:
                documents = (await connection.execute(text("SELECT count(*) FROM invoices"))).scalar_one()
                paid = (await connection.execute(text("SELECT count(*) FROM payments"))).scalar_one()
                return int(documents), int(paid)
        finally:
            await engine.dispose()

    return asyncio.run(count())


def test_billing_run_invoices_the_demo_bookings_once(demo_url: str) -> None:
    settings = base_settings(demo_url)
    month = settings.today().strftime("%Y-%m")
    first = CliRunner().invoke(main, ["billing", "run", "--month", month], env=_env(demo_url))
    assert first.exit_code == 0, first.output
    assert "INV-" in first.output
    second = CliRunner().invoke(main, ["billing", "run", "--month", month], env=_env(demo_url))
    assert second.exit_code == 0, second.output
    # The second run charges no tenant's period again and invoices nothing.
    assert "\n0 invoice(s), £0.00 in all" in second.output
    assert "Tenants: 0 period charge(s) posted" in second.output
    check = CliRunner().invoke(main, ["ledger", "check"], env=_env(demo_url))
    assert check.exit_code == 0, check.output


def test_billing_run_refuses_a_bad_month(demo_url: str) -> None:
    result = CliRunner().invoke(main, ["billing", "run", "--month", "November"], env=_env(demo_url))
    assert result.exit_code == 1
    assert "--month: expected a month such as 2026-11, got 'November'" in result.output
