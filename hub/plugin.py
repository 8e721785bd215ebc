"""The core as a module: health, API, pages, static files, navigation, the money routes, the money
commands, the demo's people, organisations and money history, the core's home panels, and the income
stream and charge source the core itself owns (other income; manual charges). It is first in the
list of modules (``hub/app.py``); how a module is made is told in ``hub/modules.py``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

import hub.billing.demo
import hub.demo
from hub.auth import ADMIN_ONLY, ALL_ROLES, PUBLIC, STAFF
from hub.backup import routes as backup_routes
from hub.billing import views as money_views
from hub.billing.controllers import API_ROUTES as MONEY_API
from hub.commands import COMMANDS
from hub.config import Settings
from hub.controllers.accounts import TokenController, UserController, me
from hub.controllers.audit import list_audit
from hub.controllers.health import healthz
from hub.controllers.organisations import OrganisationController
from hub.mail import routes as mail_routes
from hub.models import Role
from hub.modules import ChargeSource, HomePanel, IncomeStream, Module, Registry
from hub.privacy import routes as privacy_routes
from hub.reports import views as report_views
from hub.reports.controllers import API_ROUTES as REPORTS_API
from hub.services import home
from hub.views import account, admin, auth, icon, organisations
from hub.web import NavItem

STATIC_DIR = Path(__file__).parent / "static"


def _routes() -> list[ControllerRouterHandler]:
    return [
        healthz,
        OrganisationController,
        UserController,
        TokenController,
        me,
        list_audit,
        auth.login_page,
        auth.login_submit,
        auth.logout,
        auth.home,
        icon.favicon,
        organisations.organisation_list,
        organisations.organisation_new,
        organisations.organisation_create,
        organisations.organisation_detail,
        organisations.organisation_update,
        organisations.organisation_archive,
        organisations.organisation_restore,
        admin.users_page,
        admin.users_create,
        admin.user_page,
        admin.user_update,
        admin.user_reset_password,
        admin.audit_page,
        account.account_page,
        account.tokens_page,
        account.tokens_create,
        account.tokens_revoke,
        create_static_files_router(path="/static", directories=[STATIC_DIR], opt=PUBLIC),
        *MONEY_API,
        *money_views.ROUTES,
        *REPORTS_API,
        *report_views.ROUTES,
        *mail_routes.ROUTES,
        *backup_routes.ROUTES,
        *privacy_routes.ROUTES,
    ]


def _load_models() -> None:
    import hub.billing.models
    import hub.mail.models
    import hub.models  # noqa: F401


async def _demo(db: AsyncSession, settings: Settings, organisations: dict[str, int]) -> None:
    """The demo's people and organisations (the other modules' seeds use them), then a few months
    of invoices, payments and debt."""
    organisations.update(await hub.demo.seed(db))
    await hub.billing.demo.seed(db, settings, organisations)


_HOME_PANELS = [
    HomePanel("hub/home/organisations.html", STAFF | {Role.TRUSTEE}, home.organisations_panel, order=10),
    HomePanel(
        "hub/home/own_organisation.html", frozenset({Role.TENANT}), home.own_organisation_panel, order=10
    ),
    HomePanel(
        "hub/home/find_organisation.html",
        frozenset({Role.RECEPTIONIST}),
        home.find_organisation_panel,
        order=20,
    ),
    HomePanel("hub/home/accounts.html", ADMIN_ONLY, home.accounts_panel, order=30),
    HomePanel("hub/home/audit.html", ADMIN_ONLY, home.audit_panel, order=40),
]

CORE = Module(
    name="hub",
    routes=_routes(),
    nav=[
        NavItem("Home", "/", frozenset(ALL_ROLES), order=0),
        NavItem("Organisations", "/organisations", frozenset(STAFF | {Role.TRUSTEE}), order=20),
        NavItem("Accounts", "/admin/users", frozenset(ADMIN_ONLY), order=80),
        NavItem("Audit log", "/admin/audit", frozenset(ADMIN_ONLY), order=85),
        # API tokens live on "Your account"; every role may open it (their name in the header).
        NavItem("Your account", "/account", frozenset(ADMIN_ONLY), order=90),
        *money_views.NAV,
        *report_views.NAV,
        *mail_routes.NAV,
        *backup_routes.NAV,
        *privacy_routes.NAV,
    ],
    package_dir=Path(__file__).parent,
    load_models=_load_models,
    demo=_demo,
    cli=[*COMMANDS, *mail_routes.COMMANDS, *backup_routes.COMMANDS, *privacy_routes.COMMANDS],
    home_panels=_HOME_PANELS,
    income_streams=[IncomeStream("other", "Other income", "Other income")],
    charge_sources=[ChargeSource("manual", "Added by hand", "other")],
)


class ModulesPlugin(InitPluginProtocol):
    """Mounts every module's routes and navigation, and keeps the registry on the app's state."""

    def __init__(self, modules: Sequence[Module]) -> None:
        self.modules = list(modules)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        for module in self.modules:
            app_config.route_handlers.extend(module.routes)
            app_config.state.setdefault("nav", []).extend(module.nav)
        app_config.state["registry"] = Registry(self.modules)
        return app_config
