"""The café as a module. Its till, menu and cash-up arrive with their issue; it already declares the
income stream its takings earn into."""

from __future__ import annotations

from pathlib import Path

from hub.modules import IncomeStream, Module

CAFE = Module(
    name="cafe",
    package_dir=Path(__file__).parent,
    income_streams=[IncomeStream("cafe", "Café takings", "Income from trading activities")],
)
