"""Dependencies every handler may ask for by name: ``db``, ``settings`` and ``identity``."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.config import Settings
from hub.errors import Unauthenticated
from hub.modules import Registry


def provide_db(request: Request[Any, Any, Any]) -> AsyncSession:
    db: AsyncSession = request.scope["state"]["db"]
    return db


def provide_settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def provide_registry(request: Request[Any, Any, Any]) -> Registry:
    """What the app's modules declare: income streams, charge sources (``hub/modules.py``)."""
    registry: Registry = request.app.state.registry
    return registry


def provide_identity(request: Request[Any, Any, Any]) -> Identity:
    """The caller. Routes that ask for it are never public, so the guard has already run."""
    user = request.scope.get("user")
    if not isinstance(user, Identity):
        raise Unauthenticated("Sign in, or send an API token, to use this.")
    return user


def provide_optional_identity(request: Request[Any, Any, Any]) -> Identity | None:
    user = request.scope.get("user")
    return user if isinstance(user, Identity) else None


DEPENDENCIES = {
    "db": Provide(provide_db, sync_to_thread=False),
    "settings": Provide(provide_settings, sync_to_thread=False),
    "identity": Provide(provide_identity, sync_to_thread=False),
    "viewer": Provide(provide_optional_identity, sync_to_thread=False),
    "registry": Provide(provide_registry, sync_to_thread=False),
}


# Handler parameter types: named dependencies, stated explicitly (inferred ones end in Litestar 3).
Db = NamedDependency[AsyncSession]
SettingsDep = NamedDependency[Settings]
Caller = NamedDependency[Identity]
Viewer = NamedDependency[Identity | None]
RegistryDep = NamedDependency[Registry]
