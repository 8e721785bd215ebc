"""What admins see of the outbox (page and API), sending a failed message again, and the
``hubkeeper mail`` commands."""

from __future__ import annotations

import re

from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub import mail
from hub.cli import main
from hub.config import Settings
from hub.mail import Attachment, MailMessage
from hub.models import AuditEntry, Role
from tests.conftest import Hub


def queue(hub: Hub, to: str = "sam@example.org", subject: str = "Booking confirmed", **fields: object) -> int:
    async def work(db: AsyncSession) -> int:
        message = await mail.enqueue(
            db,
            kind=str(fields.pop("kind", "booking_confirmed")),
            to=to,
            to_name="Sam Contact",
            subject=subject,
            text="Your booking of the Garden Room is confirmed.\n",
            attachments=[Attachment("booking.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR\r\n")],
            **fields,  # type: ignore[arg-type]
        )
        assert message is not None
        await db.commit()
        return message.id

    return hub.run(work)


def fail(hub: Hub, message_id: int, error: str = "550 5.1.1 No such user") -> None:
    async def work(db: AsyncSession) -> None:
        await db.execute(
            update(MailMessage)
            .where(MailMessage.id == message_id)
            .values(status="failed", attempts=10, last_error=error)
        )
        await db.commit()

    hub.run(work)


def test_admins_read_the_outbox_newest_first_and_filter_it(hub: Hub) -> None:
    first = queue(hub, "first@example.org", "First message")
    second = queue(hub, "second@example.org", "Second message")
    fail(hub, first)
    admin = hub.headers_for(Role.ADMIN)

    everything = hub.client.get("/api/v1/mail/messages", headers=admin)
    assert everything.status_code == 200
    body = everything.json()
    assert [m["id"] for m in body["items"]] == [second, first]
    assert (body["total"], body["server_configured"]) == (2, False)
    assert body["items"][0]["attachments"] == [
        {"filename": "booking.ics", "content_type": "text/calendar; method=REQUEST", "size_bytes": 17}
    ]
    failed = hub.client.get("/api/v1/mail/messages?status=failed", headers=admin).json()
    assert [
        (m["id"], m["status"], m["attempts"], m["last_error"], m["next_attempt_at"]) for m in failed["items"]
    ] == [(first, "failed", 10, "550 5.1.1 No such user", None)]

    bad = hub.client.get("/api/v1/mail/messages?status=lost", headers=admin)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"] == [{"field": "status", "reason": "must be one of pending, sent, failed"}]

    hub.login_as(Role.ADMIN)
    page = hub.client.get("/admin/mail")
    assert page.status_code == 200
    assert "No mail server is set (HUB_SMTP_URL): messages wait here." in page.text
    assert page.text.index("Second message") < page.text.index("First message")
    only_failed = hub.client.get("/admin/mail?status=failed").text
    assert "First message" in only_failed and "Second message" not in only_failed
    nav = re.findall(r'<a[^>]+href="/admin/mail"', hub.client.get("/").text)
    assert nav != []


def test_a_message_page_shows_its_text_and_attachments_and_sends_a_failed_one_again(hub: Hub) -> None:
    message_id = queue(hub)
    fail(hub, message_id)
    admin = hub.login_as(Role.ADMIN)
    page = hub.client.get(f"/admin/mail/{message_id}")
    assert page.status_code == 200
    assert "Your booking of the Garden Room is confirmed." in page.text
    assert "booking.ics" in page.text
    assert "550 5.1.1 No such user" in page.text

    sent_again = hub.client.post(
        f"/admin/mail/{message_id}/retry",
        data={"_csrf": hub.csrf(f"/admin/mail/{message_id}")},
        follow_redirects=False,
    )
    assert sent_again.status_code == 303

    async def after(db: AsyncSession) -> tuple[MailMessage, list[AuditEntry]]:
        message = await db.get(MailMessage, message_id)
        assert message is not None
        entries = list(await db.scalars(select(AuditEntry).where(AuditEntry.action == "mail.retried")))
        return message, entries

    message, entries = hub.run(after)
    assert (message.status, message.attempts, message.claim_token) == ("pending", 0, None)
    assert [(e.actor_id, e.object_type, e.object_id, e.changes) for e in entries] == [
        (admin.id, "mail_message", str(message_id), {"status": ["failed", "pending"], "attempts": [10, 0]})
    ]
    # Now waiting: a second "Send again" is refused, naming the status, and changes nothing.
    again = hub.client.post(
        f"/admin/mail/{message_id}/retry",
        data={"_csrf": hub.csrf(f"/admin/mail/{message_id}")},
        follow_redirects=False,
    )
    assert again.status_code == 409
    assert "only a failed message can be sent again" in again.text


def test_the_api_sends_a_failed_message_again_and_refuses_any_other(hub: Hub) -> None:
    waiting = queue(hub)
    failed = queue(hub, "other@example.org")
    fail(hub, failed)
    admin = hub.headers_for(Role.ADMIN)

    refused = hub.client.post(f"/api/v1/mail/messages/{waiting}/retry", headers=admin)
    assert refused.status_code == 409
    assert refused.json()["errors"] == [
        {
            "field": "status",
            "reason": "this message is already waiting to be sent; only a failed message can be sent again",
        }
    ]
    retried = hub.client.post(f"/api/v1/mail/messages/{failed}/retry", headers=admin)
    assert retried.status_code == 200
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    missing = hub.client.post("/api/v1/mail/messages/99999/retry", headers=admin)
    assert missing.status_code == 404
    detail = hub.client.get(f"/api/v1/mail/messages/{failed}", headers=admin).json()
    assert detail["text_body"] == "Your booking of the Garden Room is confirmed.\n"
    # A password-reset message's text holds a secret link: not even admins read it.
    reset = queue(hub, kind="password_reset", subject="Reset your password")
    hidden = hub.client.get(f"/api/v1/mail/messages/{reset}", headers=admin).json()
    assert hidden["text_body"] == (
        "(Not shown: this message holds a single-use link that only its recipient may see.)"
    )


def _env(settings: Settings) -> dict[str, str]:
    return {
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_SECRET_KEY": settings.secret_key,
        "HUB_ENV": "test",
    }


def test_the_mail_commands_list_send_and_retry(hub: Hub, settings: Settings) -> None:
    waiting = queue(hub, "first@example.org", "First message")
    failed = queue(hub, "second@example.org", "Second message")
    fail(hub, failed, "421 Service not available")
    runner = CliRunner()

    listed = runner.invoke(main, ["mail", "list", "--status", "failed"], env=_env(settings))
    assert listed.exit_code == 0, listed.output
    assert f"{failed:>6}  failed " in listed.output
    assert "last error: 421 Service not available" in listed.output
    assert "First message" not in listed.output
    assert "1 of 1 message(s)." in listed.output

    send = runner.invoke(main, ["mail", "send"], env=_env(settings))
    assert send.exit_code == 0, send.output
    assert "No mail server is set (HUB_SMTP_URL): 1 message(s) wait in the outbox." in send.output

    retried = runner.invoke(main, ["mail", "retry", str(failed)], env=_env(settings))
    assert retried.exit_code == 0, retried.output
    assert f"Message {failed} to second@example.org is waiting to be sent again." in retried.output
    twice = runner.invoke(main, ["mail", "retry", str(waiting)], env=_env(settings))
    assert twice.exit_code == 1
    assert f"MESSAGE_ID {waiting}: this message is already waiting to be sent" in twice.output
    unknown = runner.invoke(main, ["mail", "retry", "424242"], env=_env(settings))
    assert unknown.exit_code == 1
    assert "MESSAGE_ID 424242: That message was not found." in unknown.output
