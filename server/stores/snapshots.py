"""Session snapshots: a run (the exact export JSON) kept under a resume token for a TTL.

Two implementations of one small async interface:

- ``SqliteSnapshotStore``: the embedded default, a SQLite file (stdlib) in the data
  directory; WAL, every call on the store's own thread, several server processes may share
  the file. A ``put`` that returned is committed to the WAL, so it survives ``kill -9`` of
  the process (``synchronous=NORMAL``: a power cut may lose the last commits, a crash not).
- ``RedisSnapshotStore``: ``SET bpviz:snap:TOKEN run PX ttl``, for several processes or
  replicas.

Tokens are 128-bit random, URL-safe (``new_token()``) and validated before a store is
touched; a bad token is ``InvalidTokenError``, an unknown or expired one reads as ``None``.
"""

from __future__ import annotations

import abc
import asyncio
import re
import secrets
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from .errors import InvalidTokenError, SnapshotTooLargeError, StoreUnavailable
from .health import Health, redacted, redis_client

T = TypeVar("T")

DEFAULT_TTL = 24 * 3600.0
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
SNAPSHOT_FILE = "snapshots.sqlite3"
REDIS_PREFIX = "bpviz:snap:"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")  # base64url of 16 random bytes, no padding


def new_token() -> str:
    """A fresh resume token: 128 random bits as 22 URL-safe characters."""
    return secrets.token_urlsafe(16)


def is_valid_token(token: object) -> bool:
    """Whether ``token`` has the shape of a ``new_token()`` (checked before any lookup)."""
    return isinstance(token, str) and _TOKEN.fullmatch(token) is not None


def _checked(token: object) -> str:
    if not is_valid_token(token):
        raise InvalidTokenError("a resume token is 22 characters of A-Z, a-z, 0-9, '-' and '_'")
    assert isinstance(token, str)
    return token


class SnapshotStore(abc.ABC):
    """Where runs wait for their session to come back.

    Parameters
    ----------
    ttl : float
        Seconds a snapshot lives after its last ``put`` (default 24 h).
    max_bytes : int
        Largest ``run_json`` accepted, in UTF-8 bytes.
    """

    kind = "abstract"

    def __init__(self, ttl: float = DEFAULT_TTL, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if not ttl > 0:
            raise ValueError(f"snapshot ttl must be positive seconds, got {ttl!r}")
        self.ttl = float(ttl)
        self.max_bytes = max_bytes

    @property
    @abc.abstractmethod
    def available(self) -> bool:
        """Whether the last call reached the backing service."""

    @property
    @abc.abstractmethod
    def where(self) -> str:
        """The file or URL (password redacted), for logs and ``/api/limits``."""

    def _check(self, token: str, run_json: str) -> str:
        """The token, checked, once the run's size is (without a copy of a run in ASCII,
        as the snapshots are: this runs on the event loop)."""
        size = len(run_json) if run_json.isascii() else len(run_json.encode("utf-8"))
        if size > self.max_bytes:
            raise SnapshotTooLargeError(
                f"snapshot of {size} bytes is over the store's limit of {self.max_bytes}"
            )
        return _checked(token)

    def _encode(self, token: str, run_json: str) -> tuple[str, bytes]:
        return self._check(token, run_json), run_json.encode("utf-8")

    @abc.abstractmethod
    async def put(self, token: str, run_json: str) -> None:
        """Store (or replace) the run under ``token``; its TTL starts again."""

    @abc.abstractmethod
    async def get(self, token: str) -> str | None:
        """The run stored under ``token``, or None when unknown or expired."""

    @abc.abstractmethod
    async def delete(self, token: str) -> None:
        """Forget ``token`` (no error when it is unknown)."""

    @abc.abstractmethod
    async def check(self) -> bool:
        """Probe the backing service now; returns (and updates) ``available``."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the connection and threads; the store is not used afterwards."""


def _wal(conn: sqlite3.Connection, wait: float) -> None:
    """Put the file in WAL mode, unless it is already (the mode lives in the file). The
    switch takes the file's exclusive lock and, while another connection opens the same
    new file, fails at once with "database is locked" without SQLite's busy wait: it is
    tried again for up to ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


class SqliteSnapshotStore(SnapshotStore):
    """Snapshots in one SQLite file, shared safely by several processes.

    Every call runs on the store's single thread (its connection lives there); the event
    loop only awaits. Expired rows are never returned, are deleted when read, and are purged
    in bulk at most every ``purge_every`` seconds by whichever call comes next.

    Parameters
    ----------
    path : Path
        The database file; its directory is created if missing.
    ttl, max_bytes
        As in ``SnapshotStore``.
    busy_timeout : float
        Seconds to wait for another process's write lock before failing.
    purge_every : float
        Seconds between bulk purges of expired rows.
    """

    kind = "sqlite"

    def __init__(
        self,
        path: Path,
        ttl: float = DEFAULT_TTL,
        max_bytes: int = DEFAULT_MAX_BYTES,
        *,
        busy_timeout: float = 2.0,
        purge_every: float = 600.0,
    ) -> None:
        super().__init__(ttl, max_bytes)
        self.path = Path(path)
        self._busy_ms = int(busy_timeout * 1000)
        self._purge_every = purge_every
        self._last_purge = 0.0
        self._conn: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="bpviz-snapshots"
        )
        self._available = True

    @property
    def available(self) -> bool:
        return self._available

    @property
    def where(self) -> str:
        return str(self.path)

    # -- on the store's thread ------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None)
            try:
                conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
                _wal(conn, self._busy_ms / 1000)
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS snapshots ("
                    " token TEXT PRIMARY KEY, run TEXT NOT NULL, expires_at REAL NOT NULL)"
                )
                conn.execute(
                    "CREATE INDEX IF NOT EXISTS snapshots_expiry ON snapshots (expires_at)"
                )
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        now = time.time()
        if now - self._last_purge >= self._purge_every:
            self._conn.execute("DELETE FROM snapshots WHERE expires_at <= ?", (now,))
            self._last_purge = now
        return self._conn

    def _put(self, token: str, run: str) -> None:
        self._connect().execute(
            "INSERT INTO snapshots (token, run, expires_at) VALUES (?, ?, ?)"
            " ON CONFLICT (token) DO UPDATE SET run = excluded.run,"
            " expires_at = excluded.expires_at",
            (token, run, time.time() + self.ttl),
        )

    def _get(self, token: str) -> str | None:
        conn = self._connect()
        row = conn.execute(
            "SELECT run, expires_at FROM snapshots WHERE token = ?", (token,)
        ).fetchone()
        if row is None:
            return None
        if row[1] <= time.time():
            conn.execute(
                "DELETE FROM snapshots WHERE token = ? AND expires_at <= ?", (token, row[1])
            )
            return None
        run: str = row[0]
        return run

    def _delete(self, token: str) -> None:
        self._connect().execute("DELETE FROM snapshots WHERE token = ?", (token,))

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- from the event loop --------------------------------------------------------------

    async def _run(self, fn: Callable[[], T]) -> T:
        if self._executor is None:
            raise StoreUnavailable(f"snapshot store {self.path} is closed")
        try:
            result = await asyncio.get_running_loop().run_in_executor(self._executor, fn)
        except (sqlite3.Error, OSError) as exc:
            # A failed open leaves no connection and is retried by the next call; a failed
            # statement keeps its connection (SQLite rolls back and goes on).
            self._available = False
            raise StoreUnavailable(f"snapshot store {self.path} is unavailable: {exc}") from exc
        self._available = True
        return result

    async def put(self, token: str, run_json: str) -> None:
        token = self._check(token, run_json)
        await self._run(lambda: self._put(token, run_json))

    async def get(self, token: str) -> str | None:
        token = _checked(token)
        return await self._run(lambda: self._get(token))

    async def delete(self, token: str) -> None:
        token = _checked(token)
        await self._run(lambda: self._delete(token))

    async def check(self) -> bool:
        try:
            await self._run(lambda: self._connect().execute("SELECT 1").fetchone())
        except StoreUnavailable:
            return False
        return True

    async def purge(self) -> None:
        """Delete every expired row now."""
        self._last_purge = 0.0
        await self._run(self._connect)

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(executor, self._close)
        finally:
            executor.shutdown(wait=True)


class RedisSnapshotStore(SnapshotStore):
    """Snapshots as Redis keys ``bpviz:snap:TOKEN`` with the TTL as their expiry.

    Calls fail fast with ``StoreUnavailable`` while Redis is unreachable and work again by
    themselves once it is back (see ``health.Health``).
    """

    kind = "redis"

    def __init__(
        self, url: str, ttl: float = DEFAULT_TTL, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        super().__init__(ttl, max_bytes)
        self._url: str = redacted(url)
        self._redis = redis_client(url)
        self._health = Health(f"Redis at {self._url}")
        self._ttl_ms = max(1, round(self.ttl * 1000))

    @property
    def available(self) -> bool:
        return bool(self._health.up)

    @property
    def where(self) -> str:
        return self._url

    async def put(self, token: str, run_json: str) -> None:
        token, data = self._encode(token, run_json)
        await self._health.call(
            lambda: self._redis.set(REDIS_PREFIX + token, data, px=self._ttl_ms)
        )

    async def get(self, token: str) -> str | None:
        token = _checked(token)
        data = await self._health.call(lambda: self._redis.get(REDIS_PREFIX + token))
        if data is None:
            return None
        return data if isinstance(data, str) else data.decode("utf-8")

    async def delete(self, token: str) -> None:
        token = _checked(token)
        await self._health.call(lambda: self._redis.delete(REDIS_PREFIX + token))

    async def check(self) -> bool:
        try:
            await self._health.call(self._redis.ping)
        except StoreUnavailable:
            return False
        return True

    async def close(self) -> None:
        await self._redis.aclose()


def open_snapshot_store(
    redis_url: str | None, data_dir: Path, ttl: float = DEFAULT_TTL
) -> SnapshotStore:
    """The snapshot store for this configuration: Redis when a URL is set, else the SQLite
    file ``data_dir / "snapshots.sqlite3"``. Does no I/O (stores connect on first use);
    a malformed Redis URL is a ``ValueError`` here."""
    if redis_url:
        return RedisSnapshotStore(redis_url, ttl)
    return SqliteSnapshotStore(Path(data_dir) / SNAPSHOT_FILE, ttl)
