"""Tenants as a module. Agreements and the tenant portal arrive with their issue; it already declares
the income streams rent and service charges earn into."""

from __future__ import annotations

from pathlib import Path

from hub.modules import IncomeStream, Module
from tenants.controllers import API_ROUTES
from tenants.views import NAV, ROUTES


def _load_models() -> None:
    import tenants.models  # noqa: F401


TENANTS = Module(
    name="tenants",
    routes=[*API_ROUTES, *ROUTES],
    nav=NAV,
    package_dir=Path(__file__).parent,
    load_models=_load_models,
    income_streams=[
        IncomeStream("rent", "Rent and licence fees", "Income from charitable activities"),
        IncomeStream("service_charge", "Service charges", "Income from charitable activities"),
    ],
)
