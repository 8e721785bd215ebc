"""The demo's money reconciles: ``hubkeeper ledger check`` passes on it, and ``hubkeeper billing
run`` invoices the demo's booking charges once, however often it is run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from click.testing import CliRunner

from hub.billing.demo import HISTORY
from hub.cli import main
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
    paid = sum(1 for item in HISTORY if item.paid != "none")
    # Every demo invoice, the art group's credit note and the carers' draft; each paid one's payment.
    assert (
        f"; {len(HISTORY) + 2} invoices and credit notes, {paid} payments checked; 0 problem(s)."
        in result.output
    )
    assert result.output.startswith("OK: ")


def test_billing_run_invoices_the_demo_bookings_once(demo_url: str) -> None:
    settings = base_settings(demo_url)
    month = settings.today().strftime("%Y-%m")
    first = CliRunner().invoke(main, ["billing", "run", "--month", month], env=_env(demo_url))
    assert first.exit_code == 0, first.output
    assert "INV-" in first.output
    second = CliRunner().invoke(main, ["billing", "run", "--month", month], env=_env(demo_url))
    assert second.exit_code == 0, second.output
    assert second.output.startswith("0 invoice(s), £0.00 in all")
    check = CliRunner().invoke(main, ["ledger", "check"], env=_env(demo_url))
    assert check.exit_code == 0, check.output


def test_billing_run_refuses_a_bad_month(demo_url: str) -> None:
    result = CliRunner().invoke(main, ["billing", "run", "--month", "November"], env=_env(demo_url))
    assert result.exit_code == 1
    assert "--month: expected a month such as 2026-11, got 'November'" in result.output
