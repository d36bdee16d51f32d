"""Fail fast, recover by itself: the health of a connection to Redis, and the client we use.

Every Redis-backed store and broker keeps one ``Health``. A failed call marks it down and
opens a back-off window (0.1 s doubling to 2 s) during which calls fail at once with
``StoreUnavailable`` instead of each waiting for a timeout; the first call after the window
tries again, and a success marks it up. Nothing polls here: the broker's heartbeat or the
next request is the probe.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from .errors import StoreUnavailable

T = TypeVar("T")
log = logging.getLogger("bpviz.stores")

# Short enough that a dead Redis is noticed within a request, long enough for a 2 MB value
# and for a connection made while the event loop is busy (a class joining at once).
CONNECT_TIMEOUT = 1.5
SOCKET_TIMEOUT = 2.0
BACKOFF_START = 0.1
BACKOFF_CAP = 2.0


class Health:
    """Up/down state of one backing service with a capped exponential back-off.

    Parameters
    ----------
    what : str
        What is reached, for error messages (e.g. ``"Redis at redis://h:6379/0"``).
    on_change : callable, optional
        Called with the new state (True = up) on every transition.
    """

    def __init__(self, what: str, on_change: Callable[[bool], None] | None = None) -> None:
        self.what = what
        self.up = True
        self.last_error = ""
        self._delay = 0.0
        self._retry_at = 0.0
        self._on_change = on_change

    def guard(self) -> None:
        """Raise ``StoreUnavailable`` at once while inside the back-off window."""
        if not self.up and time.monotonic() < self._retry_at:
            raise StoreUnavailable(f"{self.what} is unavailable ({self.last_error}); retrying")

    def ok(self) -> None:
        """Record a success: up, back-off reset."""
        self._delay = 0.0
        if not self.up:
            self.up = True
            self.last_error = ""
            log.info("%s is available again", self.what)
            if self._on_change is not None:
                self._on_change(True)

    def failed(self, exc: BaseException) -> StoreUnavailable:
        """Record a failure and return the error to raise (back-off doubles, capped)."""
        self._delay = min(BACKOFF_CAP, max(BACKOFF_START, self._delay * 2))
        self._retry_at = time.monotonic() + self._delay
        self.last_error = str(exc) or type(exc).__name__
        was_up, self.up = self.up, False
        if was_up:
            log.warning("%s is unavailable: %s", self.what, self.last_error)
            if self._on_change is not None:
                self._on_change(False)
        return StoreUnavailable(f"{self.what} is unavailable: {self.last_error}")

    async def call(self, op: Callable[[], Awaitable[T]]) -> T:
        """Run one Redis operation: fail fast while down, map Redis/socket errors to
        ``StoreUnavailable``, and record the outcome."""
        self.guard()
        try:
            result = await op()
        except (RedisError, OSError) as exc:
            raise self.failed(exc) from exc
        self.ok()
        return result


def redis_client(url: str, retries: int = 1) -> aredis.Redis:
    """A ``redis.asyncio`` client that fails fast: short timeouts, ``retries`` immediate
    retries on a broken connection (1: a pooled connection left over from before a Redis
    restart is replaced transparently) and none on a timeout.

    Raises ``ValueError`` for a malformed URL (checked here, at start-up, not at first use).
    """
    retry = Retry(NoBackoff(), retries, supported_errors=(RedisConnectionError,))
    return aredis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=SOCKET_TIMEOUT,
        retry=retry,
        health_check_interval=10,
        client_name="bpviz",
    )


def redacted(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))
