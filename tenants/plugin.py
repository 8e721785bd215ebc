"""Tenants as a module. Agreements and the tenant portal arrive with their issue; it already declares
the income streams rent and service charges earn into."""

from __future__ import annotations

from pathlib import Path

from hub.modules import IncomeStream, Module

TENANTS = Module(
    name="tenants",
    package_dir=Path(__file__).parent,
    income_streams=[
        IncomeStream("rent", "Rent and licence fees", "Income from charitable activities"),
        IncomeStream("service_charge", "Service charges", "Income from charitable activities"),
    ],
)
