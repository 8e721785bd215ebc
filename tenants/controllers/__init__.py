"""The tenants JSON API under /api/v1 (thin: parse, call a service, answer a schema)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from tenants.controllers.agreements import AgreementController
from tenants.controllers.money import MoneyController
from tenants.controllers.units import UnitController

API_ROUTES: list[ControllerRouterHandler] = [UnitController, AgreementController, MoneyController]
