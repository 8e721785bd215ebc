"""Self-service "forgot password": a single-use link, valid for an hour, sent by email.

The rules:

- Asking gives the same answer, the same page and about the same work whether or not the address
  belongs to an account: the link's secret is made and hashed, and the message rendered, either
  way; only an active account's request is stored and mailed.
- Only a keyed hash of the link's secret is stored (``PasswordResetToken.token_hash``); the link
  itself exists only in the message. Admins see that the message was sent, never its text.
- A link works once, within :data:`LINK_LIFETIME` of being asked for. Using it sets the new
  password, lifts a lock-out, signs the account out everywhere and ends every other link it had.
- Throttled: at most :data:`PER_ACCOUNT_PER_HOUR` unused links per account in an hour (more
  requests are answered alike and send nothing), and requests from one address share the
  failed-sign-in budget of that address (they are kept in ``login_attempts`` like failed
  sign-ins, so hammering either slows both).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub import mail
from hub.auth import Identity
from hub.config import Settings
from hub.db import utcnow
from hub.errors import DomainError, InvalidInput, TooManyRequests
from hub.mail.models import PasswordResetToken
from hub.models import LoginAttempt, Role, User
from hub.security import hash_password, keyed_hash, new_secret
from hub.services import audit
from hub.services.accounts import IP_FAILURE_FACTOR, check_password_rules, end_sessions, normalise_email
from hub.text import strip_control

LINK_LIFETIME = timedelta(hours=1)
PER_ACCOUNT_PER_HOUR = 3
MAX_SECRET_LENGTH = 128
HUB_DIR = Path(__file__).resolve().parent.parent


class LinkRefused(DomainError):
    """The link is not (or no longer) one that can set a password."""

    status_code = 410
    slug = "reset-link-refused"
    title = "This link cannot be used"


def _one_line(value: str) -> str:
    return " ".join(strip_control(value).split())


def reset_link(settings: Settings, secret: str) -> str:
    return f"{settings.public_url}/password/reset/{secret}"


async def request_reset(
    db: AsyncSession, settings: Settings, email: str, *, ip_address: str, now: datetime | None = None
) -> None:
    """Queue a reset link for the account with this email, if there is an active one (see the
    module's rules). Answers nothing either way; commits. Raises :class:`TooManyRequests` when
    this address has used up its budget (whatever the email)."""
    now = now or utcnow()
    email = normalise_email(email)
    if not email or "@" not in email or len(email) > 254:
        raise InvalidInput("Enter the email address you sign in with.", field="email")
    ip_address = ip_address[:64]
    window_start = now - timedelta(minutes=settings.login_lockout_minutes)
    from_here = await db.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.ip_address == ip_address,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at >= window_start,
        )
    )
    if (from_here or 0) >= settings.login_max_failures * IP_FAILURE_FACTOR:
        raise TooManyRequests(
            "Too many requests from this computer. Wait a few minutes and try again.",
            headers={"Retry-After": str(settings.login_lockout_minutes * 60)},
        )
    db.add(LoginAttempt(email=email, ip_address=ip_address, succeeded=False, at=now))
    user: User | None = await db.scalar(select(User).where(User.email == email))
    # The same work whether or not the account exists: a secret, its hash, the message.
    secret = new_secret()
    token_hash = keyed_hash(settings.secret_key, secret)
    name = _one_line(user.name) if user is not None else "there"
    text, html = mail.render(
        HUB_DIR,
        "password_reset",
        name=name,
        link=reset_link(settings, secret),
        hub_name=settings.hub_name,
        minutes=int(LINK_LIFETIME.total_seconds() // 60),
        subject="Reset your password",
    )
    if user is not None and user.active:
        unused = await db.scalar(
            select(func.count())
            .select_from(PasswordResetToken)
            .where(
                PasswordResetToken.user_id == user.id,
                PasswordResetToken.used_at.is_(None),
                PasswordResetToken.created_at > now - timedelta(hours=1),
            )
        )
        if (unused or 0) < PER_ACCOUNT_PER_HOUR:
            token = PasswordResetToken(
                user_id=user.id,
                token_hash=token_hash,
                created_at=now,
                expires_at=now + LINK_LIFETIME,
                requested_ip=ip_address,
            )
            db.add(token)
            await mail.enqueue(
                db,
                kind="password_reset",
                to=user.email,
                to_name=name,
                subject=f"Reset your password for {_one_line(settings.hub_name)}",
                text=text,
                html=html,
                about=("user", user.id),
            )
            await db.flush()
            audit.record(
                db,
                Identity.system("password reset"),
                "user.password_reset_requested",
                "user",
                user.id,
                summary=f"A password-reset link was sent to {user.email} (asked from {ip_address})",
            )
    await db.commit()


async def _token_for(db: AsyncSession, settings: Settings, secret: str) -> PasswordResetToken | None:
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return None
    token: PasswordResetToken | None = await db.scalar(
        select(PasswordResetToken).where(
            PasswordResetToken.token_hash == keyed_hash(settings.secret_key, secret)
        )
    )
    return token


def _refuse(token: PasswordResetToken | None, user: User | None, now: datetime) -> None:
    if token is None or user is None or not user.active:
        raise LinkRefused("This link is not valid. Ask for a new one below.", field="token")
    if token.used_at is not None:
        raise LinkRefused(
            "This link has already been used. If you did not use it, ask for a new one.", field="token"
        )
    if token.expires_at <= now:
        raise LinkRefused("This link has expired: links work for an hour. Ask for a new one.", field="token")


async def check_link(
    db: AsyncSession, settings: Settings, secret: str, *, now: datetime | None = None
) -> User:
    """The account a link may set the password of, or :class:`LinkRefused` saying why not
    (unknown, used, expired). Only reads."""
    now = now or utcnow()
    token = await _token_for(db, settings, secret)
    user = await db.get(User, token.user_id) if token is not None else None
    _refuse(token, user, now)
    assert user is not None
    return user


async def complete_reset(
    db: AsyncSession,
    settings: Settings,
    secret: str,
    password: str,
    confirm: str,
    *,
    ip_address: str = "",
    now: datetime | None = None,
) -> User:
    """Set the password through a link: once (the first of two at once wins, the second is
    refused), within the hour; ends every session and every other link of the account; audited;
    commits. A password that breaks the rules, or a confirmation that differs, is refused naming
    ``password`` or ``confirm`` and leaves the link usable."""
    now = now or utcnow()
    user = await check_link(db, settings, secret, now=now)
    check_password_rules(password, user.email, field="password")
    if password != confirm:
        raise InvalidInput("The two passwords are not the same.", field="confirm")
    user_id, email = user.id, user.email
    await db.rollback()  # hash without holding the database
    new_hash = hash_password(password)
    used = await db.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.token_hash == keyed_hash(settings.secret_key, secret),
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        await db.rollback()
        raise LinkRefused(
            "This link has already been used. If you did not use it, ask for a new one.", field="token"
        )
    # Any other link this account was sent stops working too.
    await db.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    account = await db.get(User, user_id, populate_existing=True)
    assert account is not None
    user = account
    was_locked = user.locked_until is not None and user.locked_until > now
    user.password_hash = new_hash
    user.password_changed_at = now
    user.failed_logins = 0
    user.locked_until = None
    await end_sessions(db, user.id)
    actor = Identity(
        user_id=user.id,
        email=email,
        name=user.name,
        role=Role(user.role),
        organisation_id=user.organisation_id,
        via="reset-link",
    )
    audit.record(
        db,
        actor,
        "user.password_reset",
        "user",
        user.id,
        summary=f"Password changed through an emailed link by {email}"
        + (f" from {ip_address[:64]}" if ip_address else "")
        + (" (account unlocked)" if was_locked else ""),
        changes={"locked": [was_locked, False]},
    )
    await db.commit()
    return user
