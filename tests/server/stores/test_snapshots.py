"""Snapshot stores: the same contract on SQLite and Redis, then what each one promises."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bpviz.server.stores import (
    InvalidTokenError,
    RedisSnapshotStore,
    SnapshotStore,
    SnapshotTooLargeError,
    SqliteSnapshotStore,
    StoreUnavailable,
    is_valid_token,
    new_token,
    open_snapshot_store,
)

RUN = json.dumps({"format": "bpviz-run", "version": 1, "note": "δ⁽ˡ⁾ 反向传播", "w": [0.1] * 100})
StoreFactory = Callable[..., contextlib.AbstractAsyncContextManager[SnapshotStore]]


@pytest.fixture(params=["sqlite", "redis"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """``async with make_store(ttl=…) as store``: a store of one kind, closed on exit (inside
    the test's own event loop: a Redis connection belongs to the loop that opened it)."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_server").url

        def make(**kw: Any) -> SnapshotStore:
            return RedisSnapshotStore(url, **kw)
    else:

        def make(**kw: Any) -> SnapshotStore:
            return SqliteSnapshotStore(tmp_path / "data" / "snap.sqlite3", **kw)

    @contextlib.asynccontextmanager
    async def opened(**kw: Any) -> AsyncIterator[SnapshotStore]:
        store = make(**kw)
        try:
            yield store
        finally:
            await store.close()

    return opened


def test_tokens_are_128_bit_url_safe_and_validated() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(len(t) == 22 and is_valid_token(t) for t in tokens)
    for bad in [
        "",
        "short",
        "x" * 23,
        "a" * 21 + "!",
        "a" * 21 + "=",
        None,
        12,
        "../../etc/passwd____",
    ]:
        assert not is_valid_token(bad)


def test_put_get_replace_delete(make_store: StoreFactory) -> None:
    async def main() -> None:
        async with make_store() as store:
            token, other = new_token(), new_token()
            assert await store.get(token) is None
            await store.put(token, RUN)
            assert await store.get(token) == RUN
            assert await store.get(other) is None
            await store.put(token, "{}")
            assert await store.get(token) == "{}"
            await store.delete(token)
            await store.delete(token)  # unknown: no error
            assert await store.get(token) is None
            assert store.available and await store.check()

    asyncio.run(main())


def test_bad_token_and_oversize_are_refused_before_the_store(make_store: StoreFactory) -> None:
    async def main() -> None:
        async with make_store(max_bytes=1000) as store:
            for call in (store.get("nope"), store.delete("a b"), store.put("x" * 30, "{}")):
                with pytest.raises(InvalidTokenError, match="22 characters"):
                    await call
            with pytest.raises(SnapshotTooLargeError, match="1000"):
                await store.put(new_token(), "x" * 1001)

    asyncio.run(main())


def test_snapshots_expire_after_the_ttl(make_store: StoreFactory) -> None:
    async def main() -> None:
        # Margins of 0.5 s either side: a loaded machine may sleep late.
        async with make_store(ttl=1.5) as store:
            old, fresh = new_token(), new_token()
            await store.put(old, RUN)
            await asyncio.sleep(1.0)
            await store.put(fresh, RUN)  # a put starts the TTL again
            assert await store.get(old) == RUN
            await asyncio.sleep(1.0)
            assert await store.get(old) is None
            assert await store.get(fresh) == RUN

    asyncio.run(main())


def test_ttl_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ttl"):
        SqliteSnapshotStore(tmp_path / "s.db", ttl=0)


# -- SQLite ---------------------------------------------------------------------------


def test_sqlite_creates_its_directory_uses_wal_and_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "snapshots.sqlite3"
    token = new_token()

    async def write() -> None:
        store = SqliteSnapshotStore(path)
        await store.put(token, RUN)
        await store.close()
        await store.close()  # idempotent

    async def read() -> str | None:
        store = open_snapshot_store(None, path.parent)
        try:
            assert isinstance(store, SqliteSnapshotStore)
            run: str | None = await store.get(token)
            return run
        finally:
            await store.close()

    asyncio.run(write())
    assert path.exists()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert asyncio.run(read()) == RUN


def test_sqlite_expired_rows_are_purged(tmp_path: Path) -> None:
    path = tmp_path / "snap.sqlite3"

    async def main() -> None:
        store = SqliteSnapshotStore(path, ttl=0.05)
        try:
            for _ in range(5):
                await store.put(new_token(), RUN)
            await asyncio.sleep(0.1)
            await store.purge()
        finally:
            await store.close()

    asyncio.run(main())
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0] == 0
    finally:
        conn.close()


@pytest.mark.parametrize("fresh", range(10))
def test_sqlite_two_connections_on_one_file(tmp_path: Path, fresh: int) -> None:
    """Two connections (two processes) open one new file at once and write to it: the one
    that does not switch the file to WAL waits for it, rather than failing with "database
    is locked" (before, one new file in twenty failed here, one in five in a loop: 100
    fresh files catch it)."""
    for k in range(10):
        asyncio.run(_two_writers(tmp_path / f"snap{k}.sqlite3"))


async def _two_writers(path: Path) -> None:
    a, b = SqliteSnapshotStore(path), SqliteSnapshotStore(path)
    try:
        tokens = [new_token() for _ in range(20)]
        await asyncio.gather(
            *((a if i % 2 else b).put(t, f'{{"i": {i}}}') for i, t in enumerate(tokens))
        )
        for i, t in enumerate(tokens):
            assert await (b if i % 2 else a).get(t) == f'{{"i": {i}}}'
    finally:
        await a.close()
        await b.close()


WRITER = """
import asyncio, sys
from pathlib import Path
from bpviz.server.stores.snapshots import SqliteSnapshotStore

async def main():
    store = SqliteSnapshotStore(Path(sys.argv[1]))
    for i in range(int(sys.argv[3])):
        await store.put((sys.argv[2] + "%04d" % i).ljust(22, "x"), '{"from": "%s"}' % sys.argv[2])
    print("written", flush=True)
    if sys.argv[4] == "hang":
        await asyncio.sleep(60)
    await store.close()

asyncio.run(main())
"""


def _writer(path: Path, prefix: str, n: int, then: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), prefix, str(n), then],
        stdout=subprocess.PIPE,
        text=True,
    )


def test_sqlite_several_processes_write_one_file(tmp_path: Path) -> None:
    path = tmp_path / "snap.sqlite3"
    procs = [_writer(path, p, 40, "exit") for p in ("procA", "procB", "procC")]
    for proc in procs:
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0 and out.strip() == "written"

    async def main() -> None:
        store = SqliteSnapshotStore(path)
        try:
            for p in ("procA", "procB", "procC"):
                for i in range(40):
                    assert await store.get(f"{p}{i:04d}".ljust(22, "x")) == f'{{"from": "{p}"}}'
        finally:
            await store.close()

    asyncio.run(main())


def test_sqlite_put_survives_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "snap.sqlite3"
    proc = _writer(path, "killed", 3, "hang")
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "written"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    async def main() -> None:
        store = SqliteSnapshotStore(path)
        try:
            assert await store.get("killed0002".ljust(22, "x")) == '{"from": "killed"}'
        finally:
            await store.close()

    asyncio.run(main())


def test_sqlite_unwritable_path_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")

    async def main() -> None:
        store = SqliteSnapshotStore(blocker / "snap.sqlite3")
        try:
            with pytest.raises(StoreUnavailable, match="snapshot store"):
                await store.put(new_token(), RUN)
            assert not store.available
            assert not await store.check()
        finally:
            await store.close()
        with pytest.raises(StoreUnavailable, match="closed"):
            await store.get(new_token())

    asyncio.run(main())


# -- Redis ----------------------------------------------------------------------------


def test_redis_keys_have_the_prefix_and_the_ttl(redis_server: Any) -> None:
    import redis.asyncio as aredis

    async def main() -> None:
        store = open_snapshot_store(redis_server.url, Path("/nonexistent"), ttl=100)
        raw = aredis.Redis.from_url(redis_server.url)
        try:
            assert isinstance(store, RedisSnapshotStore)
            token = new_token()
            await store.put(token, RUN)
            assert 99_000 < await raw.pttl(f"bpviz:snap:{token}") <= 100_000
            assert await raw.get(f"bpviz:snap:{token}") == RUN.encode()
        finally:
            await store.close()
            await raw.aclose()

    asyncio.run(main())


def test_redis_unreachable_fails_fast_and_clearly(dead_redis_url: str) -> None:
    async def main() -> None:
        store = RedisSnapshotStore(dead_redis_url.replace("redis://", "redis://:secret@"))
        try:
            t0 = time.monotonic()
            with pytest.raises(StoreUnavailable, match="unavailable") as err:
                await store.put(new_token(), RUN)
            assert "secret" not in str(err.value)
            assert not store.available
            with pytest.raises(StoreUnavailable, match="retrying"):
                await store.get(new_token())  # inside the back-off: no new attempt
            assert time.monotonic() - t0 < 1.0
            assert "secret" not in store.where
        finally:
            await store.close()

    asyncio.run(main())


def test_redis_restart_unavailable_then_recovers(redis_server: Any) -> None:
    async def main() -> None:
        store = RedisSnapshotStore(redis_server.url)
        try:
            token = new_token()
            await store.put(token, RUN)
            redis_server.stop()
            with pytest.raises(StoreUnavailable):
                await store.get(token)
            assert not store.available
            redis_server.start()
            deadline = time.monotonic() + 5
            while True:  # the back-off lets a call through within 2 s
                try:
                    await store.put(token, RUN)
                    break
                except StoreUnavailable:
                    assert time.monotonic() < deadline, "the store did not recover"
                    await asyncio.sleep(0.05)
            assert store.available
            assert await store.get(token) == RUN
        finally:
            await store.close()

    asyncio.run(main())
