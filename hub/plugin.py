"""Mounts the core: health, API, pages, static files, and the core's navigation."""

from __future__ import annotations

from pathlib import Path

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol
from litestar.static_files import create_static_files_router

from hub.auth import ADMIN_ONLY, ALL_ROLES, PUBLIC, STAFF
from hub.billing import views as money_views
from hub.billing.controllers import API_ROUTES as MONEY_API
from hub.controllers.accounts import TokenController, UserController, me
from hub.controllers.audit import list_audit
from hub.controllers.health import healthz
from hub.controllers.organisations import OrganisationController
from hub.models import Role
from hub.views import account, admin, auth, organisations
from hub.web import NavItem

STATIC_DIR = Path(__file__).parent / "static"


class HubPlugin(InitPluginProtocol):
    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend(
            [
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
                account.tokens_page,
                account.tokens_create,
                account.tokens_revoke,
                create_static_files_router(path="/static", directories=[STATIC_DIR], opt=PUBLIC),
            ]
        )
        app_config.route_handlers.extend(MONEY_API)
        app_config.route_handlers.extend(money_views.ROUTES)
        app_config.state.setdefault("nav", []).extend(
            [
                NavItem("Home", "/", frozenset(ALL_ROLES), order=0),
                NavItem("Organisations", "/organisations", frozenset(STAFF | {Role.TRUSTEE}), order=20),
                NavItem("Accounts", "/admin/users", frozenset(ADMIN_ONLY), order=80),
                NavItem("Audit log", "/admin/audit", frozenset(ADMIN_ONLY), order=85),
                NavItem("API tokens", "/account/tokens", frozenset(ALL_ROLES), order=90),
                *money_views.NAV,
            ]
        )
        return app_config
