"""Database plumbing: the declarative base, UTC timestamps, engines and sessions."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_
from sqlalchemy.util.concurrency import in_greenlet

from hub.config import Settings, sqlite_path

# Stable constraint names, so Alembic migrations can name what they create and drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only makes INTEGER PRIMARY KEY an auto-incrementing rowid, so BigInteger there is Integer.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored as UTC.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so the value is stored as naive
    UTC and made aware again on the way out. Naive datetimes are refused: they are always a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


MAX_ID = 2**63 - 1


def is_valid_id(value: int) -> bool:
    """Ids beyond a BIGINT would make the database driver fail rather than find nothing."""
    return 1 <= value <= MAX_ID


def utcnow() -> datetime:
    return datetime.now(UTC)


# How long SQLite waits for another process's write lock before answering "database is locked".
BUSY_TIMEOUT_MS = 10_000


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Take transaction control from the driver (which would only BEGIN before the first write),
    # so that the begin listener decides how each transaction starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


WRITE_LOCK_OPTION = "hub_write_lock"
WRITE_NOWAIT_OPTION = "hub_write_nowait"
_HOLDS_TURN = "hub_write_turn"

logger = logging.getLogger("hub.db")


class WriterBusy(Exception):
    """A writer that would not wait found another writer holding the lock."""


class _Turn:
    """One event loop's place in the queue: the lock, and the task holding it."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.owner: asyncio.Task[Any] | None = None

    def release(self) -> None:
        self.owner = None
        if self.lock.locked():
            self.lock.release()


class WriteQueue:
    """SQLite's writers in this process take turns in a first-come queue before ``BEGIN IMMEDIATE``.

    Without it, writers that find the write lock taken sleep in SQLite's busy handler (1, 2, 5 …
    100 ms at a time) and poll, so ten at once cost more than ten in a row. Queued here, each
    starts the moment the one before commits. A turn is held from BEGIN to the end of the
    transaction (commit, rollback, or the connection going back to the pool, whichever is first),
    so an exception can never keep it. Other processes are not in the queue: between them SQLite's
    busy timeout still decides, and a writer that waited ``wait_seconds`` here (which only a bug
    could cause) goes on without its turn rather than freezing the hub.
    """

    def __init__(self, wait_seconds: float = BUSY_TIMEOUT_MS / 1000) -> None:
        self.wait_seconds = wait_seconds
        # asyncio locks belong to one event loop; tests and the CLI may run several in turn.
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Turn] = weakref.WeakKeyDictionary()

    def _turn(self) -> _Turn:
        loop = asyncio.get_running_loop()
        turn = self._turns.get(loop)
        if turn is None:
            turn = self._turns[loop] = _Turn()
        return turn

    def acquire(self, info: dict[Any, Any], *, wait: bool = True) -> None:
        """Wait for this connection's turn (called inside SQLAlchemy's greenlet, so it may await).
        Without ``wait``, a queue that is not empty raises :class:`WriterBusy` at once."""
        if _HOLDS_TURN in info or not in_greenlet():
            return
        turn = self._turn()
        if not wait:
            if turn.lock.locked():
                raise WriterBusy("another writer in this process has the write lock")
            await_(turn.lock.acquire())  # free, so this does not wait
            turn.owner = asyncio.current_task()
            info[_HOLDS_TURN] = turn
            return
        task = asyncio.current_task()
        if turn.owner is not None and turn.owner is task:
            # The same task opening a second write transaction while its first is open would wait
            # for itself: let SQLite's busy timeout answer, as it would without the queue.
            return
        try:
            await_(asyncio.wait_for(turn.lock.acquire(), self.wait_seconds))
        except TimeoutError:
            logger.warning("waited %.0f s for a write turn; going on without one", self.wait_seconds)
            return
        turn.owner = task
        info[_HOLDS_TURN] = turn

    @staticmethod
    def release(info: dict[Any, Any]) -> None:
        turn = info.pop(_HOLDS_TURN, None)
        if turn is not None:
            turn.release()


def _listen_for_writers(engine: AsyncEngine, queue: WriteQueue) -> None:
    sync_engine = engine.sync_engine

    def on_begin(conn: Connection) -> None:
        # A write transaction takes SQLite's write lock at BEGIN, so that a check and the insert
        # that depends on it (a booking's clash check, the next invoice number) cannot interleave
        # with another writer. Reads begin DEFERRED and never wait for anyone (WAL).
        if not conn.get_execution_options().get(WRITE_LOCK_OPTION, False):
            conn.exec_driver_sql("BEGIN")
            return
        info = conn.connection.info
        wait = not conn.get_execution_options().get(WRITE_NOWAIT_OPTION, False)
        queue.acquire(info, wait=wait)
        try:
            if wait:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                # Fail at once ("database is locked") if another process is writing.
                conn.exec_driver_sql("PRAGMA busy_timeout=0")
                try:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                finally:
                    conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except BaseException:
            queue.release(info)
            raise

    def finish(conn: Connection, end: Callable[[Any], None]) -> None:
        # These events come just before SQLAlchemy's own COMMIT/ROLLBACK. End the transaction
        # here, then hand the turn on, so that the next writer never meets a lock still held.
        # If ending fails, SQLAlchemy's own call that follows meets the error and reports it.
        if conn.closed or conn.invalidated:
            return  # the pool's checkin or invalidate event hands the turn on
        info = conn.connection.info
        if _HOLDS_TURN not in info:
            return
        try:
            end(conn.connection.dbapi_connection)
        except Exception:  # noqa: S110 - reported by SQLAlchemy's own commit or rollback next
            pass
        finally:
            queue.release(info)

    def on_commit(conn: Connection) -> None:
        finish(conn, lambda dbapi: dbapi.commit())

    def on_rollback(conn: Connection) -> None:
        finish(conn, lambda dbapi: dbapi.rollback())

    def on_pool_return(_dbapi: Any, record: ConnectionPoolEntry, *_args: Any) -> None:
        # The safety net: a connection back in the pool (or thrown away) holds no turn.
        queue.release(record.info)

    event.listen(sync_engine, "begin", on_begin)
    event.listen(sync_engine, "commit", on_commit)
    event.listen(sync_engine, "rollback", on_rollback)
    for name in ("checkin", "invalidate", "close"):
        event.listen(sync_engine.pool, name, on_pool_return)


def writer(engine: AsyncEngine, *, wait: bool = True) -> AsyncEngine:
    """The same engine, but each transaction holds the database's write lock from its start on
    SQLite, taking its turn in the process's queue of writers. PostgreSQL needs no such lock: its
    constraints and row locks do the work. Without ``wait``, a transaction that would have to
    wait for the lock fails at once instead (for writes that may simply be skipped)."""
    return engine.execution_options(**{WRITE_LOCK_OPTION: True, WRITE_NOWAIT_OPTION: not wait})


def create_engine(settings: Settings) -> AsyncEngine:
    """An engine for the configured database. SQLite gets WAL, foreign keys, a busy timeout and
    an in-process queue for writers (see :class:`WriteQueue`)."""
    if settings.is_sqlite:
        path = sqlite_path(settings.database_url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(settings.database_url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        _listen_for_writers(engine, WriteQueue())
        return engine
    return create_async_engine(settings.database_url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def session_scope(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with maker() as session:
        yield session
