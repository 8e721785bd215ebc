"""/api/v1/users (admins), /api/v1/tokens (everyone, their own) and /api/v1/me."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from hub.auth import ADMIN_ONLY, ALL_ROLES, roles
from hub.deps import Caller, Db, SettingsDep
from hub.models import Role
from hub.schemas import (
    Me,
    PasswordReset,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
    UserPage,
    UserUpdate,
)
from hub.services import accounts as service


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["accounts"]
    opt = roles(ADMIN_ONLY)

    @get("/", summary="List accounts")
    async def list_users(
        self,
        db: Db,
        q: Annotated[str | None, QueryParameter(max_length=200)] = None,
        role: FromQuery[Role | None] = None,
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
        per_page: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> UserPage:
        return await service.list_users(db, q=q, role=role, page=page, per_page=per_page)

    @post("/", summary="Create an account")
    async def create_user(self, db: Db, identity: Caller, data: JSONBody[UserCreate]) -> UserOut:
        return service.user_out(await service.create_user(db, identity, data))

    @get("/{user_id:int}", summary="One account")
    async def get_user(self, db: Db, user_id: FromPath[int]) -> UserOut:
        return service.user_out(await service.get_user(db, user_id))

    @patch("/{user_id:int}", summary="Change name, role, organisation or active flag")
    async def update_user(
        self, db: Db, identity: Caller, user_id: FromPath[int], data: JSONBody[UserUpdate]
    ) -> UserOut:
        return service.user_out(await service.update_user(db, identity, user_id, data))

    @post("/{user_id:int}/password", status_code=200, summary="Reset a password (unlocks, signs out)")
    async def reset_password(
        self, db: Db, identity: Caller, user_id: FromPath[int], data: JSONBody[PasswordReset]
    ) -> UserOut:
        return service.user_out(await service.reset_password(db, identity, user_id, data.password))


class TokenController(Controller):
    path = "/api/v1/tokens"
    tags = ["accounts"]
    opt = roles(ALL_ROLES)

    @get("/", summary="API tokens (your own; admins see all)")
    async def list_tokens(self, db: Db, identity: Caller) -> list[TokenOut]:
        return [service.token_out(t) for t in await service.list_tokens(db, identity)]

    @post("/", summary="Create an API token: the secret is shown only in this response")
    async def create_token(
        self, db: Db, settings: SettingsDep, identity: Caller, data: JSONBody[TokenCreate]
    ) -> TokenCreated:
        secret, token = await service.create_token(db, settings, identity, data.name, user_id=data.user_id)
        return TokenCreated(token=secret, details=service.token_out(token))

    @post("/{token_id:int}/revoke", status_code=200, summary="Revoke a token at once")
    async def revoke_token(self, db: Db, identity: Caller, token_id: FromPath[int]) -> TokenOut:
        return service.token_out(await service.revoke_token(db, identity, token_id))


@get("/api/v1/me", opt=roles(ALL_ROLES), tags=["accounts"], summary="Who am I")
async def me(identity: Caller) -> Me:
    return Me(
        id=identity.user_id,
        email=identity.email,
        name=identity.name,
        role=identity.role,
        organisation_id=identity.organisation_id,
        via=identity.via,
    )
