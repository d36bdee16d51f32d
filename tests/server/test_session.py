"""The session's lifecycle, without a connection (``bpviz.server.session``)."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace
from typing import Any

from bpviz.server.runtime import Runtime
from bpviz.server.session import Session
from bpviz.server.settings import Settings


class _Socket:
    client = None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        pass


def test_close_keeps_the_experiment_until_a_running_call_has_ended() -> None:
    """``close`` cancels the session's tasks and waits for them; when ``close`` is itself
    cancelled meanwhile (the server stopping), a call of the session may still be running:
    the experiment is let go only after that call has ended, never under it."""
    runtime = Runtime(Settings())
    gate = threading.Event()
    seen: list[bool] = []

    async def main() -> Session:
        session = Session(runtime, _Socket())  # type: ignore[arg-type]
        session.workspace.start()

        def call() -> None:
            gate.wait(5.0)
            seen.append(session.workspace.experiment is not None)

        session.spawn(session.run(call))
        await asyncio.sleep(0.05)
        closing = asyncio.create_task(session.close())
        await asyncio.sleep(0.05)
        closing.cancel()  # close() goes on past the task it waited for
        await asyncio.sleep(0.05)
        assert session.closed
        assert session.workspace.experiment is not None  # the call still runs
        gate.set()
        for _ in range(100):
            if session.workspace.experiment is None:
                break
            await asyncio.sleep(0.01)
        return session

    session = asyncio.run(main())
    runtime.shutdown()
    assert seen == [True]
    assert session.workspace.experiment is None


def test_close_lets_go_of_the_experiment_at_once_when_no_call_runs() -> None:
    runtime = Runtime(Settings())

    async def main() -> Any:
        session = Session(runtime, _Socket())  # type: ignore[arg-type]
        session.workspace.start()
        await session.close()
        return SimpleNamespace(experiment=session.workspace.experiment, closed=session.closed)

    result = asyncio.run(main())
    runtime.shutdown()
    assert result.closed and result.experiment is None
