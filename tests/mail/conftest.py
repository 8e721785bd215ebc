"""A real SMTP server in the tests' own process (aiosmtpd) that keeps what it receives, and the
outbox's database on either backend (``settings`` / ``database_url`` from tests/conftest.py)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, TypeVar

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hub.config import Settings, SmtpServer
from hub.db import create_engine, create_sessionmaker, writer

# The browser tests' fixtures (a demo server, Chromium, the CSP watch), for test_mail_pages_browser.py.
from tests.browser.conftest import browser, live_server, no_csp_violations, page, server_folder  # noqa: F401

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    """One message as the server took it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class MailServer:
    """An aiosmtpd server on 127.0.0.1:``port`` (start and stop it at will; the port stays)."""

    port: int
    users: dict[str, str] = field(default_factory=dict)
    refuse: dict[str, str] = field(default_factory=dict)  # recipient → "550 No such user"
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    # STARTTLS offered (and required) with this context; or TLS from the first byte.
    starttls: ssl.SSLContext | None = None
    implicit_tls: ssl.SSLContext | None = None
    _controller: Controller | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            login, password = data.login.decode(), data.password.decode()
            self.logins.append((login, password))
            if self.users.get(login) == password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.users:
            kwargs = {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        if self.starttls is not None:
            kwargs |= {"tls_context": self.starttls, "require_starttls": True, "auth_require_tls": True}
        if self.implicit_tls is not None:
            kwargs |= {"ssl_context": self.implicit_tls, "server_hostname": "localhost"}
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def settings_for(
        self,
        settings: Settings,
        *,
        username: str | None = None,
        password: str | None = None,
        security: str = "none",
        host: str = "127.0.0.1",
    ) -> Settings:
        server = SmtpServer(
            host=host,
            port=self.port,
            security=security,
            username=username,
            password=password,
            timeout_seconds=5.0,
        )
        return replace(settings, smtp=server, mail_from="Fleetwood Hub <desk@fleetwood-hub.example>")


@pytest.fixture
def smtp_server() -> Iterator[MailServer]:
    server = MailServer(port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def idle_port() -> MailServer:
    """A server that is not running yet (its port is free): "the mail server is down"."""
    return MailServer(port=free_port())


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for "localhost": the server's context, and a client context that
    trusts it (and nothing else)."""

    server: ssl.SSLContext
    client: ssl.SSLContext


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    openssl = shutil.which("openssl")
    if openssl is None:
        reason = "the openssl command is not installed: TLS to the mail server is not tested here"
        if os.environ.get("CI"):  # .ci/run installs it; on CI nothing is skipped for want of it
            pytest.fail(reason)
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return Certificate(server=server, client=client)


class Outbox:
    """The test's database and a way to run async work on it from a plain test."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.engine: AsyncEngine = self.loop.run_until_complete(self._engine())

    async def _engine(self) -> AsyncEngine:
        return create_engine(self.settings)

    def run(self, work: Awaitable[T]) -> T:
        return self.loop.run_until_complete(work)

    def write(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async def call() -> T:
            async with create_sessionmaker(writer(self.engine))() as db:
                return await work(db)

        return self.run(call())

    def close(self) -> None:
        self.loop.run_until_complete(self.engine.dispose())
        self.loop.close()


@pytest.fixture
def outbox(settings: Settings) -> Iterator[Outbox]:
    box = Outbox(settings)
    try:
        yield box
    finally:
        box.close()
