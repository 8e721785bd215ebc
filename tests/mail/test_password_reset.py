"""Forgot password: a link by email, single use, for an hour, the same answer whether or not the
address has an account, throttled; using it sets the password and signs the account out."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings
from hub.errors import TooManyRequests
from hub.mail import MailMessage
from hub.mail.models import PasswordResetToken
from hub.models import AuditEntry, Role, User
from hub.services import password_reset
from hub.services.password_reset import LinkRefused
from hub.views.password_reset import ANSWER_FLOOR_SECONDS
from tests.conftest import PASSWORD, Hub

NEW_PASSWORD = "a-brand-new-passphrase"
LINK = re.compile(r"http://127\.0\.0\.1:8000/password/reset/([A-Za-z0-9_-]{43})")


def messages(hub: Hub) -> list[MailMessage]:
    async def work(db: AsyncSession) -> list[MailMessage]:
        return list(await db.scalars(select(MailMessage).order_by(MailMessage.id)))

    return hub.run(work)


def ask(hub: Hub, email: str) -> object:
    hub.client.cookies.clear()
    return hub.client.post(
        "/password/forgot",
        data={"_csrf": hub.csrf("/password/forgot"), "email": email},
        follow_redirects=False,
    )


def link_in(message: MailMessage) -> str:
    found = LINK.search(message.text_body)
    assert found, message.text_body
    assert found.group(0) in (message.html_body or "")
    return found.group(1)


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(hub: Hub) -> None:
    user = hub.make_user(Role.RECEPTIONIST, email="desk@fleetwood.example")
    hub.client.cookies.clear()
    csrf = hub.csrf("/password/forgot")
    began = time.monotonic()
    known = hub.client.post("/password/forgot", data={"_csrf": csrf, "email": "Desk@Fleetwood.example "})
    middle = time.monotonic()
    unknown = hub.client.post("/password/forgot", data={"_csrf": csrf, "email": "nobody@fleetwood.example"})
    # Both answers wait for the same floor, longer than the extra work for a real account.
    assert min(middle - began, time.monotonic() - middle) >= ANSWER_FLOOR_SECONDS

    assert (known.status_code, unknown.status_code) == (200, 200)
    assert known.text == unknown.text
    assert "If that address belongs to an account here" in known.text
    [message] = messages(hub)
    assert (message.kind, message.to_address, message.to_name, message.about_id) == (
        "password_reset",
        "desk@fleetwood.example",
        user.name,
        str(user.id),
    )
    assert message.subject == "Reset your password for Hubkeeper Community Hub"
    assert "within 60 minutes" in message.text_body
    link_in(message)


def test_a_link_sets_the_password_once_and_signs_the_account_out_everywhere(hub: Hub) -> None:
    user = hub.make_user(Role.TENANT, email="tenant@fleetwood.example")
    other_browser = hub.login(user.email)
    assert other_browser.status_code == 303
    session_cookie = dict(hub.client.cookies)
    ask(hub, user.email)
    secret = link_in(messages(hub)[0])

    page = hub.client.get(f"/password/reset/{secret}")
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    csrf = hub.csrf(f"/password/reset/{secret}")

    mismatch = hub.client.post(
        f"/password/reset/{secret}",
        data={"_csrf": csrf, "password": NEW_PASSWORD, "confirm": "something-else-entirely"},
    )
    assert mismatch.status_code == 422
    assert "The two passwords are not the same." in mismatch.text
    short = hub.client.post(
        f"/password/reset/{secret}", data={"_csrf": csrf, "password": "short", "confirm": "short"}
    )
    assert short.status_code == 422
    assert "must be at least 10 characters" in short.text

    done = hub.client.post(
        f"/password/reset/{secret}",
        data={"_csrf": csrf, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, "/login")

    again = hub.client.post(
        f"/password/reset/{secret}",
        data={"_csrf": csrf, "password": "yet-another-passphrase", "confirm": "yet-another-passphrase"},
    )
    assert again.status_code == 410
    assert "This link has already been used." in again.text
    assert hub.client.get(f"/password/reset/{secret}").status_code == 410

    # The session signed in before the reset has ended; the old password no longer works.
    hub.client.cookies.clear()
    hub.client.cookies.update(session_cookie)
    assert hub.client.get("/api/v1/me").status_code == 401
    assert hub.login(user.email, PASSWORD).status_code == 400
    assert hub.login(user.email, NEW_PASSWORD).status_code == 303

    async def audit(db: AsyncSession) -> list[tuple[str, int | None]]:
        rows = await db.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "user", AuditEntry.object_id == str(user.id))
        )
        return [(e.action, e.actor_id) for e in rows]

    assert hub.run(audit) == [("user.password_reset_requested", None), ("user.password_reset", user.id)]


def test_an_unknown_link_is_refused(hub: Hub) -> None:
    page = hub.client.get("/password/reset/" + "x" * 43)
    assert page.status_code == 410
    assert "This link is not valid. Ask for a new one below." in page.text


T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


async def _secret_at(db: AsyncSession, settings: Settings, email: str, now: datetime) -> str:
    await password_reset.request_reset(db, settings, email, ip_address="192.0.2.7", now=now)
    message = (await db.scalars(select(MailMessage).order_by(MailMessage.id.desc()))).first()
    assert message is not None
    return link_in(message)


def test_a_link_expires_an_hour_after_it_was_asked_for(hub: Hub, settings: Settings) -> None:
    user = hub.make_user(Role.ADMIN, email="admin@fleetwood.example")
    secret = hub.run(lambda db: _secret_at(db, settings, user.email, T0))

    def check(at: datetime) -> str:
        async def work(db: AsyncSession) -> str:
            try:
                return (await password_reset.check_link(db, settings, secret, now=at)).email
            except LinkRefused as exc:
                return exc.detail

        return hub.run(work)

    assert check(T0 + timedelta(minutes=59, seconds=59)) == user.email
    expired = "This link has expired: links work for an hour. Ask for a new one."
    assert check(T0 + timedelta(hours=1)) == expired

    async def late(db: AsyncSession) -> str:
        try:
            await password_reset.complete_reset(
                db, settings, secret, NEW_PASSWORD, NEW_PASSWORD, now=T0 + timedelta(hours=1, minutes=1)
            )
        except LinkRefused as exc:
            return exc.detail
        return "changed"

    assert hub.run(late) == expired

    async def token(db: AsyncSession) -> PasswordResetToken | None:
        return (await db.scalars(select(PasswordResetToken))).first()

    stored = hub.run(token)
    assert stored is not None
    assert (stored.expires_at, stored.used_at, stored.requested_ip) == (
        T0 + timedelta(hours=1),
        None,
        "192.0.2.7",
    )
    assert secret not in stored.token_hash


def test_an_account_gets_at_most_three_links_an_hour_and_an_inactive_one_none(
    hub: Hub, settings: Settings
) -> None:
    user = hub.make_user(Role.RECEPTIONIST, email="busy@fleetwood.example")
    hub.make_user(Role.RECEPTIONIST, email="gone@fleetwood.example", active=False)

    async def ask_times(db: AsyncSession) -> None:
        for minute in range(5):
            await password_reset.request_reset(
                db,
                settings,
                user.email,
                ip_address=f"198.51.100.{minute}",
                now=T0 + timedelta(minutes=minute),
            )
        await password_reset.request_reset(
            db, settings, "gone@fleetwood.example", ip_address="198.51.100.9", now=T0
        )
        # An hour after the first, the account may ask again.
        await password_reset.request_reset(
            db, settings, user.email, ip_address="198.51.100.10", now=T0 + timedelta(minutes=61)
        )

    hub.run(ask_times)
    assert [m.to_address for m in messages(hub)] == [user.email] * 4


def test_one_computer_asking_too_often_is_slowed_whatever_the_address(hub: Hub, settings: Settings) -> None:
    strict = replace(settings, login_max_failures=1)  # four requests per 15 minutes from one address

    async def ask_times(db: AsyncSession) -> list[str]:
        answers = []
        for i in range(5):
            try:
                await password_reset.request_reset(
                    db, strict, f"someone{i}@fleetwood.example", ip_address="203.0.113.5", now=T0
                )
                answers.append("ok")
            except TooManyRequests as exc:
                await db.rollback()
                answers.append(exc.detail)
        # Another computer is not slowed.
        await password_reset.request_reset(
            db, strict, "x@fleetwood.example", ip_address="203.0.113.6", now=T0
        )
        return answers

    assert hub.run(ask_times) == ["ok"] * 4 + [
        "Too many requests from this computer. Wait a few minutes and try again."
    ]


def test_a_blank_or_malformed_address_is_refused_naming_the_field(hub: Hub) -> None:
    for email in ("", "not-an-address"):
        response = ask(hub, email)
        assert response.status_code == 422  # type: ignore[attr-defined]
        assert "Enter the email address you sign in with." in response.text  # type: ignore[attr-defined]
    assert messages(hub) == []
    # The sign-in page offers the way here.
    assert '<a href="/password/forgot">Forgot your password?</a>' in hub.client.get("/login").text


def test_a_name_with_a_line_break_is_written_on_one_line(hub: Hub, settings: Settings) -> None:
    user = hub.make_user(Role.TRUSTEE, email="trustee@fleetwood.example")

    async def rename(db: AsyncSession) -> None:
        account = await db.get(User, user.id)
        assert account is not None
        account.name = "Mal\r\nBcc: victim@example.org"
        await db.commit()

    hub.run(rename)
    ask(hub, user.email)
    [message] = messages(hub)
    assert message.to_name == "Mal Bcc: victim@example.org"
