"""The café as a module. Its till, menu and cash-up arrive with their issue; it already declares the
income stream its takings earn into, and the home panel café staff land on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cafe import demo
from cafe.controllers import API_ROUTES
from cafe.privacy import PERSONAL_DATA_PROVIDER as cafe_personal_data
from cafe.services.reports import PROVIDES as TRADING_REPORT
from cafe.services.reports import cafe_trading
from cafe.services.takings import ledger_check
from cafe.views import ROUTES
from hub.auth import CAFE_ROLES, Identity
from hub.billing import LEDGER_CHECKS
from hub.config import Settings
from hub.models import Role
from hub.modules import HomePanel, IncomeStream, Module
from hub.privacy import PERSONAL_DATA
from hub.web import NavItem


def load_models() -> None:
    import cafe.models  # noqa: F401


async def _nothing_to_load(db: AsyncSession, identity: Identity, settings: Settings) -> dict[str, Any]:
    return {}


CAFE = Module(
    name="cafe",
    routes=[*API_ROUTES, *ROUTES],
    package_dir=Path(__file__).parent,
    load_models=load_models,
    demo=demo.seed,
    nav=[
        NavItem("Till", "/till", CAFE_ROLES | {Role.ADMIN}, order=30),
        NavItem("Café menu", "/cafe/menu", frozenset({Role.CAFE_SUPERVISOR, Role.ADMIN}), order=32),
    ],
    home_panels=[HomePanel("cafe/home.html", CAFE_ROLES, _nothing_to_load)],
    income_streams=[IncomeStream("cafe", "Café takings", "Income from trading activities")],
    # The trustees' reports ask for the café's trading; the ledger check asks for its proof.
    provides={TRADING_REPORT: cafe_trading, LEDGER_CHECKS: ledger_check, PERSONAL_DATA: cafe_personal_data},
)
