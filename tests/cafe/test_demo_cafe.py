"""The café's demo: a month of takings that `hubkeeper ledger check` proves, the till ready to use
(today's session open on the Counter), variances explained and a pay-it-forward pool in credit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from cafe.models import CafeProduct, CafeTill, Sale, TillSession
from cafe.plugin import CAFE
from cafe.services import menu, tills
from hub import migrations
from hub.app import seed_demo
from hub.billing.demo import demo_settings
from hub.cli import main
from hub.commands import run_with_db
from hub.config import Settings
from hub.plugin import CORE
from tests.conftest import backend, base_settings, fresh_postgres_database


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Settings]:
    with ExitStack() as cleanup:
        if backend() == "postgresql":
            url = cleanup.enter_context(fresh_postgres_database())
        else:
            url = f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}"
        settings = demo_settings(base_settings(url))
        migrations.upgrade(settings)
        run_with_db(settings, lambda db: seed_demo(db, settings, modules=[CORE, CAFE]))
        yield settings


def test_the_ledger_check_proves_the_demo_months_takings(demo: Settings) -> None:
    result = CliRunner().invoke(
        main, ["ledger", "check"], env={"HUB_ENV": "test", "HUB_DATABASE_URL": demo.database_url}
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK:")


def test_the_demo_till_is_ready_with_a_real_menu(demo: Settings) -> None:
    async def look(db: Any) -> dict[str, Any]:
        products = (await db.scalars(select(CafeProduct))).all()
        closed = (await db.scalars(select(TillSession).where(TillSession.status == "closed"))).all()
        return {
            "tills": sorted((await db.scalars(select(CafeTill.name))).all()),
            "open": await tills.list_sessions(db, status="open"),
            "names": {p.short_name for p in products},
            "allergens": all(p.allergens is not None for p in products),
            "pictograms": all(p.pictogram for p in products),
            "explained": [s.variance_reason for s in closed if s.variance_pence],
            "unexplained": [s.id for s in closed if s.variance_pence and not s.variance_reason],
            "sales": int(await db.scalar(select(func.count()).select_from(Sale))),
            "pool": await menu.pool(db),
        }

    seen = run_with_db(demo, look)
    assert seen["tills"] == ["Counter", "Window"]
    assert [(s.till_name, s.status) for s in seen["open"]] == [("Counter", "open")]
    assert {"Coffee", "Tea", "Soup of the day", "Cheese toastie", "Scone", "Kids' lunch box"} <= seen["names"]
    assert seen["allergens"] and seen["pictograms"]
    assert len(seen["explained"]) >= 3 and seen["unexplained"] == []
    assert seen["sales"] > 1_000
    for units, value in seen["pool"].values():
        assert units >= 0 and value >= 0
    assert sum(units for units, _ in seen["pool"].values()) > 0
