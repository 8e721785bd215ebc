"""The composition root: builds the Litestar app from settings and the one list of modules.

This is the only place in ``hub`` that imports ``rooms``, ``cafe`` and ``tenants``. Everything else
loops over :func:`default_modules`: the app (:func:`create_app` mounts each module's routes,
navigation and templates through ``hub.plugin.ModulesPlugin``, and keeps the registry of income
streams and charge sources), the migrations (:func:`load_all_models`), the demo (:func:`seed_demo`)
and the ``hubkeeper`` command (``hub/cli.py`` adds each module's commands). How to write a module:
``hub/modules.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession

from cafe.plugin import CAFE
from hub.auth import PUBLIC, access_guard
from hub.config import Settings, load_settings
from hub.controllers.health import VERSION
from hub.db import Base, create_engine, create_sessionmaker, writer
from hub.deps import DEPENDENCIES
from hub.headers import security_headers
from hub.mail import routes as mail_routes
from hub.middleware import IdentityMiddleware
from hub.modules import Module, Registry
from hub.openapi import ClockTimeSchemaPlugin, DocumentedJsonPlugin, DocumentedYamlPlugin
from hub.plugin import CORE, ModulesPlugin
from hub.web import exception_handler
from rooms.plugin import ROOMS
from tenants.plugin import TENANTS


def default_modules() -> list[Module]:
    """The hub's modules, the core first. Adding a module is adding it here."""
    return [CORE, ROOMS, CAFE, TENANTS]


def default_registry() -> Registry:
    return Registry(default_modules())


# Largest request body accepted (a form or JSON document); uploads are not part of the core.
MAX_BODY_BYTES = 1_000_000


def load_all_models(modules: Sequence[Module] | None = None) -> MetaData:
    """Every module's tables on one metadata (for migrations and their tests)."""
    for module in modules or default_modules():
        if module.load_models is not None:
            module.load_models()
    return Base.metadata


async def seed_demo(db: AsyncSession, settings: Settings, modules: Sequence[Module] | None = None) -> None:
    """The whole demo hub: each module seeds its part in list order (the core first: its people,
    organisations and money history), each given the organisations made so far, by name."""
    organisations: dict[str, int] = {}
    for module in modules or default_modules():
        if module.demo is not None:
            await module.demo(db, settings, organisations)


def _local_time(settings: Settings) -> Any:
    def local(value: datetime | None, fmt: str = "%a %d %b %Y, %H:%M") -> str:
        if value is None:
            return ""
        return value.astimezone(settings.zone).strftime(fmt)

    return local


def template_environment(settings: Settings, modules: Sequence[Module] | None = None) -> Environment:
    folders = [m.package_dir / "templates" for m in modules or default_modules() if m.package_dir is not None]
    directories = [str(folder) for folder in folders if folder.is_dir()]
    env = Environment(
        loader=FileSystemLoader(directories), autoescape=select_autoescape(["html"]), auto_reload=False
    )
    env.filters["local"] = _local_time(settings)
    return env


def create_app(settings: Settings | None = None, modules: Sequence[Module] | None = None) -> Litestar:
    settings = settings or load_settings()
    modules = list(modules) if modules is not None else default_modules()

    @asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.write_engine = writer(engine)
        try:
            yield
        finally:
            await engine.dispose()

    return Litestar(
        plugins=[ModulesPlugin(modules), ClockTimeSchemaPlugin()],
        lifespan=[database, *mail_routes.lifespans(settings)],
        middleware=[IdentityMiddleware(settings)],
        # Security headers on every response, the router's own 404/405 and errors included: a hook
        # on the whole app's send, outside every middleware and exception handler (hub/headers.py).
        before_send=[security_headers(settings)],
        guards=[access_guard],
        dependencies=DEPENDENCIES,
        exception_handlers={HTTPException: exception_handler, Exception: exception_handler},
        template_config=TemplateConfig(
            engine=JinjaTemplateEngine.from_environment(template_environment(settings, modules))
        ),
        openapi_config=OpenAPIConfig(
            title="Hubkeeper",
            version=VERSION,
            description=(
                "The API of a community-owned building. Send an API token as `Authorization: Bearer "
                "<token>`. Errors are RFC 9457 problem details (`application/problem+json`)."
            ),
            path="/schema",
            # hub/openapi.py makes Litestar's document true to the API before it is served.
            render_plugins=[DocumentedJsonPlugin(), DocumentedYamlPlugin()],
            # The document describes the API, not itself.
            openapi_router=Router(path="/schema", route_handlers=[], opt=PUBLIC, include_in_schema=False),
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", description="API token")
                }
            ),
            security=[{"bearer": []}],
        ),
        request_max_body_size=MAX_BODY_BYTES,
        state=State({"settings": settings}),
        debug=False,
    )
