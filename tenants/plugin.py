"""Tenants as a module. Agreements and the tenant portal arrive with their issue; it already declares
the income streams rent and service charges earn into."""

from __future__ import annotations

from pathlib import Path

from hub.billing import LEDGER_CHECKS, PERIODIC_CHARGES
from hub.mail import SCHEDULED
from hub.models import Role
from hub.modules import ChargeSource, HomePanel, IncomeStream, Module
from hub.privacy import PERSONAL_DATA
from hub.reports import OCCUPANCY
from rooms import HIRE_ALLOWANCE
from tenants.cli import tenants as tenants_commands
from tenants.controllers import API_ROUTES
from tenants.mail import queue_agreement_alerts
from tenants.privacy import PERSONAL_DATA_PROVIDER as tenants_personal_data
from tenants.services import deposits
from tenants.services.allowance import hire_allowance
from tenants.services.billing import SOURCE_TYPE, agreement_link, post_periodic_charges
from tenants.services.demo import seed as demo_seed
from tenants.services.occupancy import occupancy
from tenants.views import NAV, ROUTES, portal


def _load_models() -> None:
    import tenants.models  # noqa: F401


TENANTS = Module(
    name="tenants",
    routes=[*API_ROUTES, *ROUTES],
    nav=NAV,
    package_dir=Path(__file__).parent,
    load_models=_load_models,
    demo=demo_seed,
    cli=[tenants_commands],
    # The tenant portal's home: agreement, hours, bookings, balance (before the address card).
    home_panels=[HomePanel("tenants/portal_home.html", frozenset({Role.TENANT}), portal.home_panel, order=5)],
    income_streams=[
        IncomeStream("rent", "Rent and licence fees", "Income from charitable activities"),
        IncomeStream("service_charge", "Service charges", "Income from charitable activities"),
        IncomeStream(
            "allowance_overage",
            "Tenants' meeting-room hours beyond their allowance",
            "Income from charitable activities",
        ),
    ],
    charge_sources=[ChargeSource(SOURCE_TYPE, "Tenancy agreement", "rent", link=agreement_link)],
    provides={
        PERIODIC_CHARGES: post_periodic_charges,
        HIRE_ALLOWANCE: hire_allowance,
        OCCUPANCY: occupancy,
        LEDGER_CHECKS: deposits.check,
        PERSONAL_DATA: tenants_personal_data,
        # A daily digest of agreement alerts to admins and reception.
        SCHEDULED: queue_agreement_alerts,
    },
)
