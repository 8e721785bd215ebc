"""The outbox's sender against a real SMTP server (aiosmtpd in this process): what arrives, once;
what waits when the server is down; back-off, giving up, credentials, header injection."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub import mail
from hub.config import Settings
from hub.db import create_engine
from hub.errors import RuleViolation
from hub.mail import Attachment, MailMessage
from hub.mail.models import MailAttachment, MailStatus
from hub.mail.sender import MAX_ATTEMPTS, SendResult, backoff, send_due
from tests.mail.conftest import Certificate, MailServer, Outbox, free_port

# The sender's "now": a day after this run started, so every message queued in it (due at once, by
# the real clock) is due by then, however long the suite takes. (A fixed date went stale.)
T0 = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Hubkeeper//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
    b"UID:booking-12@hubkeeper\r\nDTSTAMP:20261204T090000Z\r\nDTSTART:20261210T100000Z\r\n"
    b"DTEND:20261210T110000Z\r\nSUMMARY:Knit and natter\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def lines(text: str) -> str:
    return text.replace("\r\n", "\n")


def queue(outbox: Outbox, count: int = 1, **fields: object) -> list[int]:
    async def work(db: AsyncSession) -> list[int]:
        messages = []
        for i in range(count):
            values: dict[str, object] = {
                "kind": "test_message",
                "to": f"person{i}@example.org",
                "subject": f"Message {i}",
                "text": f"Hello number {i}.\n",
            }
            values.update(fields)
            message = await mail.enqueue(db, **values)  # type: ignore[arg-type]
            assert message is not None
            messages.append(message)
        await db.commit()
        return [m.id for m in messages]

    return outbox.write(work)


def row(outbox: Outbox, message_id: int) -> MailMessage:
    async def work(db: AsyncSession) -> MailMessage:
        found = await db.get(MailMessage, message_id)
        assert found is not None
        return found

    return outbox.write(work)


def send(outbox: Outbox, settings: Settings, now: datetime = T0, **options: object) -> SendResult:
    return outbox.run(send_due(outbox.engine, settings, now=now, **options))  # type: ignore[arg-type]


def test_a_message_arrives_with_its_text_html_and_attachments(
    outbox: Outbox, settings: Settings, smtp_server: MailServer
) -> None:
    [message_id] = queue(
        outbox,
        to="sam@example.org",
        to_name="Sam Ó Briain",
        subject="Invoice INV-000042 from Fleetwood Community Hub",
        text="Dear Sam,\nYour invoice is attached.\n",
        html="<p>Dear Sam,</p><p>Your invoice is attached.</p>",
        attachments=[
            Attachment("INV-000042.pdf", "application/pdf", PDF),
            Attachment("booking.ics", "text/calendar; method=REQUEST", ICS),
        ],
    )
    result = send(outbox, smtp_server.settings_for(settings))

    assert (result.sent, result.retrying, result.failed) == (1, 0, 0)
    [received] = smtp_server.received
    assert received.mail_from == "desk@fleetwood-hub.example"
    assert received.rcpt_tos == ["sam@example.org"]
    email = received.message
    assert email["From"] == "Fleetwood Hub <desk@fleetwood-hub.example>"
    assert email["To"] == "Sam Ó Briain <sam@example.org>"
    assert email["Subject"] == "Invoice INV-000042 from Fleetwood Community Hub"
    stored = row(outbox, message_id)
    local = stored.message_id.strip("<>").split("@")[0]
    assert email["Message-ID"] == f"<{local}@fleetwood-hub.example>"
    assert email["Date"] is not None
    body = email.get_body(preferencelist=("plain",))
    # (On the wire every line ends CRLF.)
    assert body is not None and lines(body.get_content()) == "Dear Sam,\nYour invoice is attached.\n"
    html = email.get_body(preferencelist=("html",))
    assert html is not None
    assert lines(html.get_content()) == "<p>Dear Sam,</p><p>Your invoice is attached.</p>\n"
    attachments = list(email.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["INV-000042.pdf", "booking.ics"]
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_content() == PDF
    assert attachments[1].get_content_type() == "text/calendar"
    assert attachments[1].get_param("method") == "REQUEST"
    assert lines(attachments[1].get_content()) == lines(ICS.decode())

    assert (stored.status, stored.attempts, stored.sent_at) == ("sent", 1, T0)
    assert (stored.claim_token, stored.claimed_until, stored.last_error) == (None, None, "")


def test_with_the_server_down_the_message_waits_and_arrives_once_when_it_is_back(
    outbox: Outbox, settings: Settings, idle_port: MailServer
) -> None:
    [message_id] = queue(outbox)
    configured = idle_port.settings_for(settings)

    down = send(outbox, configured)
    assert (down.sent, down.retrying, down.failed) == (0, 1, 0)
    waiting = row(outbox, message_id)
    assert (waiting.status, waiting.attempts, waiting.sent_at) == ("pending", 1, None)
    # The first retry comes 1 minute later (plus at most 10% jitter).
    assert T0 + timedelta(minutes=1) <= waiting.next_attempt_at <= T0 + timedelta(seconds=66)
    assert "could not be reached" in waiting.last_error
    # Not due again yet: nothing is tried.
    assert send(outbox, configured, T0 + timedelta(seconds=30)).tried == 0

    idle_port.start()
    try:
        back = send(outbox, configured, T0 + timedelta(minutes=2))
        again = send(outbox, configured, T0 + timedelta(minutes=30))
    finally:
        idle_port.stop()
    assert (back.sent, again.tried) == (1, 0)
    assert len(idle_port.received) == 1
    sent = row(outbox, message_id)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 2, "")


def test_two_senders_at_once_send_each_message_exactly_once(
    outbox: Outbox, settings: Settings, smtp_server: MailServer
) -> None:
    ids = queue(outbox, 30)
    configured = smtp_server.settings_for(settings)
    results: list[SendResult] = []
    start = threading.Barrier(2)

    def sender() -> None:
        async def drain() -> None:
            engine = create_engine(configured)  # its own engine: as another process would have
            try:
                start.wait()
                while (result := await send_due(engine, configured, limit=4)).tried:
                    results.append(result)
            finally:
                await engine.dispose()

        asyncio.run(drain())

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(r.sent for r in results) == 30
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted(
        f"person{i}@example.org" for i in range(30)
    )
    assert len({r.message["Message-ID"] for r in smtp_server.received}) == 30
    assert {(row(outbox, i).status, row(outbox, i).attempts) for i in ids} == {("sent", 1)}


def test_the_pause_between_tries_doubles_up_to_an_hour() -> None:
    minutes = [backoff(n, jitter=0).total_seconds() / 60 for n in range(1, MAX_ATTEMPTS)]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert backoff(3, jitter=0.1) == timedelta(minutes=4.4)
    assert MAX_ATTEMPTS == 10


def test_a_message_fails_after_its_last_try(
    outbox: Outbox, settings: Settings, idle_port: MailServer
) -> None:
    [message_id] = queue(outbox)

    async def nine_tries(db: AsyncSession) -> None:
        await db.execute(update(MailMessage).values(attempts=MAX_ATTEMPTS - 1))
        await db.commit()

    outbox.write(nine_tries)
    result = send(outbox, idle_port.settings_for(settings))
    assert (result.retrying, result.failed) == (0, 1)
    failed = row(outbox, message_id)
    assert (failed.status, failed.attempts) == ("failed", MAX_ATTEMPTS)


def test_a_recipient_refused_for_good_fails_at_once(
    outbox: Outbox, settings: Settings, smtp_server: MailServer
) -> None:
    smtp_server.refuse["nobody@example.org"] = "550 5.1.1 No such user here"
    [refused, fine] = [
        queue(outbox, to="nobody@example.org")[0],
        queue(outbox, to="someone@example.org")[0],
    ]
    result = send(outbox, smtp_server.settings_for(settings))
    assert (result.sent, result.retrying, result.failed) == (1, 0, 1)
    failed = row(outbox, refused)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.last_error == "refused for good by the mail server: 550 5.1.1 No such user here"
    assert row(outbox, fine).status == "sent"
    assert [r.rcpt_tos for r in smtp_server.received] == [["someone@example.org"]]


def test_a_busy_recipient_4xx_is_tried_again(
    outbox: Outbox, settings: Settings, smtp_server: MailServer
) -> None:
    smtp_server.refuse["full@example.org"] = "452 4.2.2 Mailbox full, try later"
    [message_id] = queue(outbox, to="full@example.org")
    result = send(outbox, smtp_server.settings_for(settings))
    assert (result.retrying, result.failed) == (1, 0)
    assert row(outbox, message_id).status == "pending"


def test_with_no_mail_server_set_nothing_is_sent_and_messages_wait(
    outbox: Outbox, settings: Settings
) -> None:
    assert settings.smtp is None
    [message_id] = queue(outbox)
    result = send(outbox, settings)
    assert (result.no_server, result.waiting, result.tried) == (True, 1, 0)
    waiting = row(outbox, message_id)
    assert (waiting.status, waiting.attempts, waiting.claim_token) == ("pending", 0, None)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_credentials_are_given_to_a_server_that_asks(outbox: Outbox, settings: Settings) -> None:
    server = MailServer(port=free_port())
    server.users = {"hub-desk": "correct horse: battery"}
    server.start()
    try:
        [first] = queue(outbox)
        wrong = send(outbox, server.settings_for(settings, username="hub-desk", password="wrong"))
        assert (wrong.sent, wrong.retrying) == (0, 1)
        assert row(outbox, first).last_error.startswith("535")
        right = send(
            outbox,
            server.settings_for(settings, username="hub-desk", password="correct horse: battery"),
            T0 + timedelta(minutes=5),
        )
    finally:
        server.stop()
    assert right.sent == 1
    # (smtplib tries each mechanism the server offers before giving up on a wrong password.)
    assert ("hub-desk", "wrong") in server.logins
    assert server.logins[-1] == ("hub-desk", "correct horse: battery")
    assert len(server.received) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to_name", "Eve\r\nBcc: victim@example.org"),
        ("to_name", "Eve\nBcc: victim@example.org"),
        ("subject", "Hello\r\nBcc: victim@example.org"),
        ("subject", "Hello\u2028Bcc: victim@example.org"),
    ],
)
def test_a_line_break_in_a_name_or_subject_is_refused(outbox: Outbox, field: str, value: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        queue(outbox, **{field: value})
    assert refused.value.errors[0].field == field

    async def count(db: AsyncSession) -> int:
        return len(list(await db.scalars(select(MailMessage.id))))

    assert outbox.write(count) == 0


def test_a_line_break_that_reached_the_outbox_cannot_add_a_header(
    outbox: Outbox, settings: Settings, smtp_server: MailServer
) -> None:
    [message_id] = queue(outbox, to="eve@example.org")

    async def tamper(db: AsyncSession) -> None:
        await db.execute(
            update(MailMessage)
            .where(MailMessage.id == message_id)
            .values(to_name="Eve\r\nBcc: victim@example.org", subject="Hi\r\nBcc: victim@example.org")
        )
        db.add(
            MailAttachment(
                message_id=message_id,
                position=0,
                filename="a.txt\r\nBcc: victim@example.org",
                content_type="text/plain",
                data=b"x",
            )
        )
        await db.commit()

    outbox.write(tamper)
    assert send(outbox, smtp_server.settings_for(settings)).sent == 1
    [received] = smtp_server.received
    email = received.message
    assert received.rcpt_tos == ["eve@example.org"]
    assert email.get_all("To") == ['"Eve Bcc: victim@example.org" <eve@example.org>']
    assert email.get_all("Bcc") is None
    assert email["Subject"] == "Hi Bcc: victim@example.org"
    assert [a.get_filename() for a in email.iter_attachments()] == ["a.txt Bcc: victim@example.org"]


def test_a_message_claimed_by_a_live_sender_is_left_alone(
    outbox: Outbox, settings: Settings, smtp_server: MailServer
) -> None:
    [message_id] = queue(outbox)

    async def claimed_elsewhere(db: AsyncSession) -> None:
        await db.execute(
            update(MailMessage).values(claim_token="another-sender", claimed_until=T0 + timedelta(minutes=3))
        )
        await db.commit()

    outbox.write(claimed_elsewhere)
    configured = smtp_server.settings_for(settings)
    assert send(outbox, configured).tried == 0
    # That sender died: once its claim has run out, the message is sent (once).
    assert send(outbox, configured, T0 + timedelta(minutes=4)).sent == 1
    assert len(smtp_server.received) == 1
    assert row(outbox, message_id).status == MailStatus.SENT


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_starttls_then_credentials(outbox: Outbox, settings: Settings, certificate: Certificate) -> None:
    server = MailServer(port=free_port(), users={"hub-desk": "s3cret"}, starttls=certificate.server)
    server.start()
    try:
        queue(outbox)
        configured = server.settings_for(
            settings, username="hub-desk", password="s3cret", security="starttls", host="localhost"
        )
        result = outbox.run(send_due(outbox.engine, configured, now=T0, ssl_context=certificate.client))
    finally:
        server.stop()
    assert result.sent == 1
    assert server.logins[-1] == ("hub-desk", "s3cret")
    assert len(server.received) == 1


def test_tls_from_the_start(outbox: Outbox, settings: Settings, certificate: Certificate) -> None:
    server = MailServer(port=free_port(), implicit_tls=certificate.server)
    server.start()
    try:
        queue(outbox)
        configured = server.settings_for(settings, security="tls", host="localhost")
        result = outbox.run(send_due(outbox.engine, configured, now=T0, ssl_context=certificate.client))
    finally:
        server.stop()
    assert result.sent == 1
    assert len(server.received) == 1


def test_a_certificate_that_is_not_trusted_is_refused(
    outbox: Outbox, settings: Settings, certificate: Certificate
) -> None:
    server = MailServer(port=free_port(), starttls=certificate.server)
    server.start()
    try:
        [message_id] = queue(outbox)
        configured = server.settings_for(settings, security="starttls", host="localhost")
        result = send(outbox, configured)  # the system's trusted authorities only
    finally:
        server.stop()
    assert (result.sent, result.retrying) == (0, 1)
    assert "CERTIFICATE_VERIFY_FAILED" in row(outbox, message_id).last_error
    assert server.received == []
