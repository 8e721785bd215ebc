"""Accounts: users and roles, signing in and out, lock-out, password resets and API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
from msgspec import UNSET
from sqlalchemy import func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.config import Settings
from hub.db import utcnow
from hub.errors import Conflict, InvalidInput, NotFound, RuleViolation, TooManyRequests, Unauthenticated
from hub.models import ApiToken, LoginAttempt, Organisation, Role, User, UserSession
from hub.queries import get_or_404, page_of
from hub.schemas import TokenOut, UserCreate, UserOut, UserPage, UserUpdate
from hub.security import (
    MIN_PASSWORD_LENGTH,
    burn_verify_time,
    hash_password,
    keyed_hash,
    new_api_token,
    new_secret,
    password_needs_rehash,
    verify_password,
)
from hub.services import audit
from hub.text import search_term, strip_control

# Failed sign-ins from one address (any account) before the address is slowed down.
IP_FAILURE_FACTOR = 4
TOKEN_TOUCH_SECONDS = 60


def normalise_email(email: str) -> str:
    return strip_control(email).strip().lower()


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        organisation_id=user.organisation_id,
        organisation_name=user.organisation.name if user.organisation else None,
        active=user.active,
        locked_until=user.locked_until if user.locked_until and user.locked_until > utcnow() else None,
        last_login_at=user.last_login_at,
        created_at=user.created_at,
    )


def check_password_rules(password: str, email: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"must be at least {MIN_PASSWORD_LENGTH} characters", field=field)
    if password.strip().lower() == normalise_email(email):
        raise InvalidInput("must not be the same as the email address", field=field)


async def _organisation_for(db: AsyncSession, role: Role, organisation_id: int | None) -> int | None:
    if role == Role.TENANT and organisation_id is None:
        raise InvalidInput("is required for a tenant account", field="organisation_id")
    if organisation_id is None:
        return None
    organisation = await db.get(Organisation, organisation_id)
    if organisation is None:
        raise InvalidInput(f"no organisation has id {organisation_id}", field="organisation_id")
    if not organisation.active:
        raise InvalidInput(f"{organisation.name} is archived", field="organisation_id")
    return organisation.id


async def get_user(db: AsyncSession, user_id: int) -> User:
    return await get_or_404(db, User, user_id, "That user")


async def get_user_by_email(db: AsyncSession, email: str) -> User | None:
    result: User | None = await db.scalar(select(User).where(User.email == normalise_email(email)))
    return result


async def list_users(
    db: AsyncSession, *, q: str | None = None, role: Role | None = None, page: int = 1, per_page: int = 50
) -> UserPage:
    conditions = []
    term = search_term(q)
    if term:
        pattern = f"%{term.lower()}%"
        conditions.append(or_(User.email.like(pattern), func.lower(User.name).like(pattern)))
    if role is not None:
        conditions.append(User.role == role.value)
    found = await page_of(
        db, select(User).where(*conditions).order_by(User.name, User.id), page=page, per_page=per_page
    )
    return UserPage(items=[user_out(u) for u in found.rows], total=found.total, page=page, per_page=per_page)


async def create_user(
    db: AsyncSession, actor: Identity, data: UserCreate, *, password_hash: str | None = None
) -> User:
    """Emails are unique (case-insensitive); a tenant account belongs to an organisation."""
    email = normalise_email(data.email)
    if await get_user_by_email(db, email) is not None:
        raise Conflict("an account with this email already exists", field="email")
    organisation_id = await _organisation_for(db, data.role, data.organisation_id)
    check_password_rules(data.password, email)
    user = User(
        email=email,
        name=data.name.strip(),
        role=data.role.value,
        organisation_id=organisation_id,
        password_hash=password_hash or hash_password(data.password),
        active=True,
        failed_logins=0,
        password_changed_at=utcnow(),
    )
    db.add(user)
    await db.flush()
    audit.record(
        db,
        actor,
        "user.created",
        "user",
        user.id,
        summary=f"Created {data.role.value} account {email}",
        changes={
            "email": [None, email],
            "role": [None, data.role.value],
            "organisation_id": [None, organisation_id],
        },
    )
    await db.commit()
    await db.refresh(user)
    return user


async def _active_admins(db: AsyncSession) -> int:
    count = await db.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN.value, User.active.is_(True))
    )
    return count or 0


async def end_sessions(db: AsyncSession, user_id: int) -> None:
    await db.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


async def update_user(db: AsyncSession, actor: Identity, user_id: int, data: UserUpdate) -> User:
    """The last active admin can be neither demoted nor deactivated, so the hub is never ownerless."""
    user = await get_user(db, user_id)
    before = {
        "name": user.name,
        "role": user.role,
        "organisation_id": user.organisation_id,
        "active": user.active,
    }
    role = Role(user.role) if data.role is UNSET else data.role
    organisation_id = user.organisation_id if data.organisation_id is UNSET else data.organisation_id
    active = user.active if data.active is UNSET else data.active
    losing_admin = user.role == Role.ADMIN.value and user.active and (role != Role.ADMIN or not active)
    if losing_admin and await _active_admins(db) <= 1:
        raise RuleViolation(
            "the hub must keep at least one active admin", field="role" if active else "active"
        )
    user.organisation_id = await _organisation_for(db, role, organisation_id)
    if data.name is not UNSET:
        user.name = data.name.strip()
    user.role = role.value
    user.active = active
    after = {
        "name": user.name,
        "role": user.role,
        "organisation_id": user.organisation_id,
        "active": user.active,
    }
    changes = audit.diff(before, after)
    if not active:
        await end_sessions(db, user.id)
    if changes:
        audit.record(
            db, actor, "user.updated", "user", user.id, summary=f"Updated {user.email}", changes=changes
        )
    await db.commit()
    await db.refresh(user)
    return user


async def reset_password(db: AsyncSession, actor: Identity, user_id: int, password: str) -> User:
    """An admin sets a new password: the lock is lifted and every signed-in session ends."""
    user = await get_user(db, user_id)
    check_password_rules(password, user.email)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    was_locked = user.locked_until is not None and user.locked_until > utcnow()
    user.failed_logins = 0
    user.locked_until = None
    await end_sessions(db, user.id)
    audit.record(
        db,
        actor,
        "user.password_reset",
        "user",
        user.id,
        summary=f"Password reset for {user.email}" + (" (account unlocked)" if was_locked else ""),
        changes={"locked": [was_locked, False]},
    )
    await db.commit()
    return user


# --- signing in ---------------------------------------------------------------------------


async def login(
    db: AsyncSession, settings: Settings, email: str, password: str, *, ip_address: str, user_agent: str = ""
) -> tuple[str, User]:
    """Check a password and open a session; returns the cookie secret.

    After ``login_max_failures`` wrong passwords in a row the account is locked for
    ``login_lockout_minutes``; an address with many failures across accounts is slowed too.
    The answer for a wrong email and a wrong password is the same.
    """
    now = utcnow()
    email = normalise_email(email)
    window_start = now - timedelta(minutes=settings.login_lockout_minutes)
    retry_after = {"Retry-After": str(settings.login_lockout_minutes * 60)}
    ip_failures = await db.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.ip_address == ip_address,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at >= window_start,
        )
    )
    if (ip_failures or 0) >= settings.login_max_failures * IP_FAILURE_FACTOR:
        raise TooManyRequests(
            "Too many failed sign-ins from this computer. Wait a few minutes and try again.",
            headers=retry_after,
        )
    user = await get_user_by_email(db, email) if email else None
    if user is not None and user.locked_until is not None and user.locked_until > now:
        db.add(LoginAttempt(email=email, ip_address=ip_address, succeeded=False, at=now))
        await db.commit()
        until = user.locked_until.astimezone(settings.zone).strftime("%H:%M")
        raise TooManyRequests(
            f"This account is locked after repeated failed sign-ins. Try again after {until}, "
            "or ask an admin to reset the password.",
            headers=retry_after,
        )
    if user is None:
        burn_verify_time(password)
    password_ok = user is not None and verify_password(user.password_hash, password)
    if user is None or not password_ok or not user.active:
        db.add(LoginAttempt(email=email, ip_address=ip_address, succeeded=False, at=now))
        if user is not None and not password_ok:
            user.failed_logins += 1
            if user.failed_logins >= settings.login_max_failures:
                user.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
                user.failed_logins = 0
                audit.record(
                    db,
                    Identity.system("login throttle"),
                    "user.locked",
                    "user",
                    user.id,
                    summary=f"{user.email} locked after {settings.login_max_failures} failed sign-ins",
                    changes={"locked_until": [None, user.locked_until]},
                )
        await db.commit()
        raise Unauthenticated("That email and password do not match an active account.", field="password")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.add(LoginAttempt(email=email, ip_address=ip_address, succeeded=True, at=now))
    secret = new_secret()
    db.add(
        UserSession(
            user_id=user.id,
            token_hash=keyed_hash(settings.secret_key, secret),
            csrf_token=new_secret(24),
            created_at=now,
            expires_at=now + timedelta(hours=settings.session_hours),
            ip_address=ip_address[:64],
            user_agent=user_agent[:300],
        )
    )
    await db.commit()
    return secret, user


async def logout(db: AsyncSession, identity: Identity) -> None:
    if identity.session_id is None:
        return
    await db.execute(
        update(UserSession).where(UserSession.id == identity.session_id).values(ended_at=utcnow())
    )
    await db.commit()


def _identity(user: User, via: str, **extra: int | str | None) -> Identity:
    return Identity(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        organisation_id=user.organisation_id,
        via=via,
        session_id=extra.get("session_id"),  # type: ignore[arg-type]
        token_id=extra.get("token_id"),  # type: ignore[arg-type]
        csrf_token=extra.get("csrf_token"),  # type: ignore[arg-type]
    )


async def identity_from_session(db: AsyncSession, settings: Settings, secret: str) -> Identity | None:
    now = utcnow()
    row = (
        await db.execute(
            select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .where(
                UserSession.token_hash == keyed_hash(settings.secret_key, secret),
                UserSession.ended_at.is_(None),
                UserSession.expires_at > now,
                User.active.is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    session, user = row
    return _identity(user, "session", session_id=session.id, csrf_token=session.csrf_token)


async def identity_from_api_token(db: AsyncSession, settings: Settings, secret: str) -> Identity | None:
    """Who a bearer token belongs to. Only reads: the identity says whether the token's
    last-used time (kept at most once a minute) is due, and the caller records it with
    :func:`touch_api_token` once the response has gone, so that no request waits for it and a
    read never writes."""
    now = utcnow()
    row = (
        await db.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(
                ApiToken.token_hash == keyed_hash(settings.secret_key, secret),
                ApiToken.revoked_at.is_(None),
                User.active.is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    token, user = row
    due = token.last_used_at is None or now - token.last_used_at > timedelta(seconds=TOKEN_TOUCH_SECONDS)
    identity = _identity(user, "token", token_id=token.id)
    return msgspec.structs.replace(identity, token_touch_due=due)


async def touch_api_token(db: AsyncSession, token_id: int) -> None:
    """Record that a token was used, without waiting for anyone: on PostgreSQL a row someone
    else has locked is left alone (the next use records it); SQLite's caller begins with
    ``writer(engine, wait=False)``, which fails at once if another writer holds the lock."""
    now = utcnow()
    due = or_(
        ApiToken.last_used_at.is_(None),
        ApiToken.last_used_at < now - timedelta(seconds=TOKEN_TOUCH_SECONDS),
    )
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(text("SET LOCAL lock_timeout = '100ms'"))
    await db.execute(update(ApiToken).where(ApiToken.id == token_id, due).values(last_used_at=now))
    await db.commit()


# --- API tokens -------------------------------------------------------------------------------


def token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        user_id=token.user_id,
        user_email=token.user.email,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


async def create_token(
    db: AsyncSession, settings: Settings, actor: Identity, name: str, *, user_id: int | None = None
) -> tuple[str, ApiToken]:
    """Anyone may make tokens for themselves; only an admin for another account."""
    owner_id = actor.user_id if user_id is None else user_id
    if owner_id is None:
        raise InvalidInput("is required when the caller is not a user", field="user_id")
    if owner_id != actor.user_id and actor.role != Role.ADMIN:
        raise NotFound("That user was not found.")
    owner = await db.get(User, owner_id)
    if owner is None:
        raise InvalidInput(f"no user has id {owner_id}", field="user_id")
    if not owner.active:
        raise RuleViolation("tokens cannot be issued to a deactivated account", field="user_id")
    name = name.strip()
    if not name:
        raise InvalidInput("must not be blank", field="name")
    secret = new_api_token()
    token = ApiToken(
        user_id=owner.id,
        name=name,
        prefix=secret[:10],
        token_hash=keyed_hash(settings.secret_key, secret),
        created_at=utcnow(),
    )
    db.add(token)
    await db.flush()
    audit.record(
        db, actor, "token.created", "api_token", token.id, summary=f"Token '{name}' for {owner.email}"
    )
    await db.commit()
    await db.refresh(token, ["user"])
    return secret, token


async def list_tokens(db: AsyncSession, actor: Identity, *, include_revoked: bool = True) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if actor.role != Role.ADMIN:
        query = query.where(ApiToken.user_id == actor.user_id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return list(await db.scalars(query))


async def revoke_token(db: AsyncSession, actor: Identity, token_id: int) -> ApiToken:
    """Anyone may revoke their own tokens; only an admin another account's (which is otherwise 404)."""
    token = await get_or_404(db, ApiToken, token_id, "That token")
    if token.user_id != actor.user_id and actor.role != Role.ADMIN:
        raise NotFound("That token was not found.")
    if token.revoked_at is not None:
        raise Conflict("this token is already revoked", field="token_id")
    token.revoked_at = utcnow()
    token.revoked_by_id = actor.user_id
    audit.record(
        db,
        actor,
        "token.revoked",
        "api_token",
        token.id,
        summary=f"Token '{token.name}' ({token.prefix}…) revoked",
    )
    await db.commit()
    return token


def locked(user: User, now: datetime | None = None) -> bool:
    return user.locked_until is not None and user.locked_until > (now or utcnow())
