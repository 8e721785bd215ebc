"""Test fixtures: a freshly migrated database per test, on SQLite or PostgreSQL.

The backend is chosen by ``HUB_TEST_DATABASE_URL``: unset means SQLite; a PostgreSQL URL
(e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``) runs every database test there. CI runs
the suite once per backend. The schema is built by the Alembic migrations, once per session,
into a template that each test copies (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE``
on PostgreSQL), so no test sees another's data.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
from litestar.testing import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from hub.app import create_app
from hub.auth import Identity
from hub.config import Settings, load_settings
from hub.models import OrganisationKind, Role, User
from hub.schemas import ContactIn, OrganisationCreate
from hub.security import hash_password

T = TypeVar("T")

PASSWORD = "correct-horse-battery"
PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: argon2 is deliberately slow
ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _test_database_url() -> str | None:
    url = os.environ.get("HUB_TEST_DATABASE_URL", "").strip()
    return url or None


def backend() -> str:
    url = _test_database_url()
    return "postgresql" if url and url.startswith("postgres") else "sqlite"


def pytest_report_header(config: pytest.Config) -> str:
    return f"hubkeeper test database: {backend()} ({_test_database_url() or 'temporary SQLite files'})"


def _pg_admin_dsn(url: str) -> str:
    """asyncpg DSN for the server's maintenance database (for CREATE/DROP DATABASE)."""
    plain = url.replace("postgresql+asyncpg://", "postgresql://").replace("postgres://", "postgresql://")
    base, _, _db = plain.rpartition("/")
    return f"{base}/postgres"


def _pg_url_for(url: str, database: str) -> str:
    plain = url.replace("postgresql+asyncpg://", "postgresql://").replace("postgres://", "postgresql://")
    base, _, _db = plain.rpartition("/")
    return f"postgresql+asyncpg://{base.removeprefix('postgresql://')}/{database}"


async def _pg_execute(url: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_admin_dsn(url))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def _blocking(statement_coroutine: Awaitable[None]) -> None:
    """Run setup SQL on its own thread: Playwright's sync API keeps an event loop on this one."""
    from concurrent.futures import ThreadPoolExecutor

    async def wrapper() -> None:
        await statement_coroutine

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, wrapper()).result()


_TEST_BACKUP_DIR = Path(tempfile.mkdtemp(prefix="hubkeeper-test-backups-"))
_TEST_DATA_DIR = Path(tempfile.mkdtemp(prefix="hubkeeper-test-data-"))


def base_settings(database_url: str) -> Settings:
    settings = load_settings(
        {
            "HUB_ENV": "test",
            "HUB_DATABASE_URL": database_url,
            "HUB_SUPPLIER_NAME": "Fleetwood Community Hub",
            "HUB_SUPPLIER_ADDRESS": "The Old Hospital; Pharos Street; Fleetwood; FY7 6BE",
            "HUB_CHARITY_NUMBER": "1190001",
            "HUB_PAYMENT_INSTRUCTIONS": "Bank transfer to Fleetwood Community Hub\\nSort code 00-00-00",
            # "Back up now" in a test must never write into the checkout's var/backups.
            "HUB_BACKUP_DIR": str(_TEST_BACKUP_DIR),
            # Nor keep uploads (signed agreements, till pictures) in the checkout's var/data.
            "HUB_DATA_DIR": str(_TEST_DATA_DIR),
        }
    )
    return replace(settings, secret_key="test-secret-key-that-is-long-enough-0123456789")


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database per test session, copied for each test."""
    from hub import migrations

    url = _test_database_url()
    if url is None or not url.startswith("postgres"):
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        migrations.upgrade(base_settings(f"sqlite+aiosqlite:///{path}"))
        yield str(path)
        return
    name = f"hub_template_{uuid.uuid4().hex[:10]}"
    _blocking(_pg_execute(url, f'CREATE DATABASE "{name}"'))
    try:
        migrations.upgrade(base_settings(_pg_url_for(url, name)))
        yield name
    finally:
        _blocking(_pg_execute(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def fresh_postgres_database(template: str | None = None) -> Iterator[str]:
    """A new, uniquely named PostgreSQL database (a copy of ``template`` if given), dropped after."""
    url = _test_database_url()
    assert url is not None
    name = f"hub_test_{uuid.uuid4().hex[:12]}"
    suffix = f' TEMPLATE "{template}"' if template else ""
    _blocking(_pg_execute(url, f'CREATE DATABASE "{name}"{suffix}'))
    try:
        yield _pg_url_for(url, name)
    finally:
        _blocking(_pg_execute(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    url = _test_database_url()
    if url is None or not url.startswith("postgres"):
        target = tmp_path / "hub.sqlite3"
        shutil.copyfile(template_database, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    with fresh_postgres_database(template_database) as database:
        yield database


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # Uploaded files (signed agreements, till pictures) go to the test's own folder.
    return replace(base_settings(database_url), data_dir=tmp_path / "data")


class Hub:
    """The app under test, with helpers that make data through the real services."""

    def __init__(self, client: TestClient[Any]) -> None:
        self.client = client
        self._counter = 0

    # -- running service code on the app's own event loop ---------------------------------
    def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async def call() -> T:
            # Service calls here write as the app's writes do: on SQLite the transaction takes the
            # write lock at BEGIN, so a write never meets a snapshot another writer has moved on
            # from (which SQLite refuses at once, "database is locked", whatever the busy timeout).
            state = self.client.app.state
            async with state.sessionmaker(bind=state.write_engine) as db:
                return await work(db)

        return self.client.blocking_portal.call(call)

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    # -- factories ----------------------------------------------------------------------------
    def make_org(
        self, name: str | None = None, kind: OrganisationKind = OrganisationKind.VCSE, **fields: Any
    ) -> int:
        from hub.services import organisations

        data = OrganisationCreate(name=name or f"Test Organisation {self._next()}", kind=kind, **fields)
        return self.run(lambda db: organisations.create(db, Identity.system("test"), data)).id

    def make_user(
        self, role: Role, *, organisation_id: int | None = None, email: str | None = None, active: bool = True
    ) -> User:
        async def work(db: AsyncSession) -> User:
            user = User(
                email=email or f"{role.value}{self._next()}@test.example",
                name=f"Test {role.value}",
                role=role.value,
                organisation_id=organisation_id,
                password_hash=PASSWORD_HASH,
                active=active,
                failed_logins=0,
            )
            db.add(user)
            await db.commit()
            await db.refresh(user)
            return user

        if role == Role.TENANT and organisation_id is None:
            organisation_id = self.make_org()
        return self.run(work)

    def token_for(self, user: User) -> str:
        from hub.services import accounts

        settings: Settings = self.client.app.state.settings
        identity = Identity(
            user_id=user.id,
            email=user.email,
            name=user.name,
            role=Role(user.role),
            organisation_id=user.organisation_id,
            via="system",
        )
        secret, _ = self.run(lambda db: accounts.create_token(db, settings, identity, "test"))
        return secret

    def headers_for(self, role: Role, *, organisation_id: int | None = None) -> dict[str, str]:
        """Bearer-token headers for a new account with this role."""
        user = self.make_user(role, organisation_id=organisation_id)
        return {"Authorization": f"Bearer {self.token_for(user)}"}

    # -- pages ----------------------------------------------------------------------------------
    def csrf(self, path: str = "/login") -> str:
        """The CSRF token the page at ``path`` carries in its forms."""
        import re

        html = self.client.get(path).text
        match = re.search(r'name="_csrf" value="([^"]+)"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, email: str, password: str = PASSWORD) -> Any:
        self.client.cookies.clear()
        token = self.csrf("/login")
        return self.client.post(
            "/login",
            data={"_csrf": token, "email": email, "password": password, "next": "/"},
            follow_redirects=False,
        )

    def login_as(self, role: Role, *, organisation_id: int | None = None) -> User:
        user = self.make_user(role, organisation_id=organisation_id)
        response = self.login(user.email)
        assert response.status_code == 303, response.text
        return user


@pytest.fixture
def hub(settings: Settings) -> Iterator[Hub]:
    app = create_app(settings)
    with TestClient(app, base_url="http://testserver.local") as client:
        yield Hub(client)


@pytest.fixture
def client(hub: Hub) -> TestClient[Any]:
    return hub.client


def contact(name: str = "Sam Contact", email: str | None = "sam@example.org") -> ContactIn:
    return ContactIn(name=name, email=email)
