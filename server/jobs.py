"""Work longer than a slice: cut into short hops on the worker pool, and cancellable.

Every hop (``host.run``) is one job on the shared worker pool under the session's lock,
at most about :data:`JOB_SLICE` seconds of work, so other sessions' work runs between
two hops of this one and a bystander's ``step`` waits for at most one slice.

Jobs (:class:`Jobs`): ``gradcheck``, ``gradcheck_scaling`` and ``export`` run in the
background, one at a time per session, their progress in ``state.job`` (at most every
:data:`PROGRESS_INTERVAL`). Any command but ``ping`` cancels the running one, and so does
a disconnect: it stops after the hop in progress, and a ``state`` with ``cancelled``
says which. The state-changing commands with more than one hop (``configure``,
``import``, ``csv_inspect``) are not jobs: they run in order, each of their hops short
(the parse of a CSV, which cannot be cut, runs on the runtime's ``slow`` thread, never
holding a worker of the pool).

:func:`dumps_pieces` writes a large message (an ``export`` of the largest network is
about 12 MB of JSON) a piece at a time, with the bytes :func:`encode.dumps` would give
in one call: the C encoder holds the interpreter lock for the whole of one call, which
for 12 MB is a third of a second in which no other thread — the event loop included —
runs.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np

from bpviz.core.engine.gradcheck import SCALING_SIZES
from bpviz.core.experiment.config import Config, TrainingPatch

from . import encode, owndata
from .messages import JobProgress, Message, State
from .protocol import CommandError

if TYPE_CHECKING:
    from .outbox import Outbox
    from .player import Player
    from .runtime import Runtime
    from .settings import Settings
    from .workspace import Workspace

log = logging.getLogger("bpviz.jobs")
T = TypeVar("T")

JOB_SLICE = 0.03  # seconds of work in one hop of a job
PAIR_SECONDS = 0.02  # most one finite difference of a gradient check may take
PROGRESS_INTERVAL = 0.25  # seconds between two `state` messages with a job's progress
PIECE_ITEMS = 4096  # a list or array longer than this is written in pieces


class Host(Protocol):
    """What a job needs from its session."""

    runtime: Runtime
    settings: Settings
    workspace: Workspace
    outbox: Outbox
    player: Player
    jobs: Jobs
    closed: bool

    def spawn(self, coro: Any) -> asyncio.Task[None]: ...

    async def run(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def run_slow(self, fn: Callable[..., T], *args: Any) -> T: ...

    def send(self, message: Message) -> None: ...

    def state_message(self) -> State: ...

    def send_state(self) -> None: ...

    async def publish_all(self) -> None: ...

    def report(self, exc: Exception, where: str) -> None: ...


class JobCancelledError(Exception):
    """The job was cancelled (a new command, or the connection closed)."""


@dataclass
class Job:
    """A running job: its kind, its progress (``done`` of ``total``, ``None`` while not
    known) and whether it has been cancelled."""

    kind: str
    done: int = 0
    total: int | None = None
    cancelled: bool = False
    task: asyncio.Task[None] | None = None
    shown: float = 0.0  # when its progress was last sent

    def check(self) -> None:
        """Between two hops: stop here if cancelled."""
        if self.cancelled:
            raise JobCancelledError(self.kind)

    def progress(self) -> JobProgress:
        return {"kind": self.kind, "done": self.done, "total": self.total}


class Jobs:
    """The background job of one session (at most one)."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.current: Job | None = None

    def progress(self) -> JobProgress | None:
        """``state.job``: the running job's kind and progress, or ``None``."""
        return None if self.current is None else self.current.progress()

    def start(self, kind: str, body: Callable[[Job], Awaitable[None]]) -> None:
        """Run ``body`` as this session's job (the previous one must have ended)."""
        job = Job(kind)
        self.current = job

        async def run() -> None:
            try:
                await body(job)
            except JobCancelledError:
                pass
            except Exception as exc:
                self.host.report(exc, kind)
            finally:
                if self.current is job:
                    self.current = None

        job.task = self.host.spawn(run())

    def update(self, job: Job, done: int, total: int | None) -> None:
        """The job's progress; a ``state`` carries it at most every PROGRESS_INTERVAL."""
        job.done, job.total = done, total
        now = time.monotonic()
        if now - job.shown >= PROGRESS_INTERVAL:
            job.shown = now
            self.host.send_state()

    async def cancel(self) -> None:
        """Cancel the running job, if any: it ends after its hop in progress; a ``state``
        with ``cancelled`` says so."""
        job = self.current
        if job is None or job.task is None or job.task.done():
            return
        job.cancelled = True
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await job.task
        self.current = None
        if not self.host.closed:
            state = self.host.state_message().model_copy(update={"cancelled": job.kind})
            self.host.send(state)


# ---------------------------------------------------------------- the jobs


async def gradcheck(host: Host, job: Job, max_examples: int) -> None:
    """Backprop against finite differences, a slice at a time (see ``GradCheckRun``)."""
    work = host.workspace
    run = await host.run(work.gradcheck_start, max_examples, PAIR_SECONDS)
    while not await host.run(run.run, JOB_SLICE):
        job.check()
        host.jobs.update(job, *run.progress())
    host.outbox.put(await host.run(work.gradcheck_text, run))


async def gradcheck_scaling(host: Host, job: Job) -> None:
    """One network size after the other, each measured in a few slices (at most
    ``SCALING_BUDGET`` seconds in all): the fastest backprop pass, and finite
    differences timed on as many parameters as the time allows, scaled up to all."""
    from .workspace import SCALING_BUDGET

    work = host.workspace
    share = SCALING_BUDGET / len(SCALING_SIZES)
    points: dict[int, dict[str, Any]] = {}
    for i, size in enumerate(SCALING_SIZES):
        spent, runs = 0.0, []
        while spent < share:
            t0 = time.perf_counter()
            got = await host.run(work.scaling_point, size, JOB_SLICE)
            spent += time.perf_counter() - t0
            job.check()
            if not got:
                break
            runs.append(got[0])
        if runs:
            point = _combine(runs)
            points.setdefault(point["n_params"], point)
        host.jobs.update(job, i + 1, len(SCALING_SIZES))
    ordered = [points[n] for n in sorted(points)]
    host.outbox.put(await host.run(work.scaling_text, ordered))


def _combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Measurements of one size: the fastest backprop pass; finite differences as the
    mean time per timed parameter, scaled to all of them."""
    n_timed = sum(r["n_timed"] for r in runs)
    per = sum(r["time_numeric_s"] * r["n_timed"] / r["n_params"] for r in runs) / n_timed
    first = runs[0]
    return {
        "n_params": first["n_params"],
        "time_backprop_s": min(r["time_backprop_s"] for r in runs),
        "time_numeric_s": per * first["n_params"],
        "n_timed": min(n_timed, first["n_params"]),
    }


async def export(host: Host, job: Job) -> None:
    """The run in one hop (a consistent snapshot), then written as JSON in slices."""
    run = await host.run(host.workspace.export_snapshot)
    job.check()
    run["config"] = Exact(run["config"])  # a typed table or given weights: every digit
    pieces = dumps_pieces({"type": "export", "run": run})
    parts: list[str] = []
    done = False
    while not done:
        done = await host.run(_write_for, pieces, parts, JOB_SLICE)
        job.check()
        host.jobs.update(job, len(parts), None)
    text = "".join(parts)
    most = host.outbox.max_bytes
    if len(text) > most:  # refused with a reason, rather than closing the connection
        raise CommandError(
            f"this run's export is {len(text):,} bytes, more than the {most:,} the server "
            "sends in one message (outbox_max_bytes)",
            code="too_large",
            bytes=len(text),
            limit=most,
        )
    host.outbox.put(text)


def _write_for(pieces: Iterator[str], parts: list[str], seconds: float) -> bool:
    """Append pieces of text for about ``seconds``; True when all are written."""
    deadline = time.perf_counter() + seconds
    for piece in pieces:
        parts.append(piece)
        if time.perf_counter() >= deadline:
            return False
    return True


class Exact:
    """A value :func:`dumps_pieces` writes with every digit, not 6 significant ones."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _big(v: Any) -> bool:
    """Whether ``v`` is worth writing in pieces: a container holding many values."""
    if type(v) is Exact:
        return True
    if type(v) is np.ndarray:
        return v.ndim > 1 and v.size > PIECE_ITEMS
    if isinstance(v, dict):
        return True
    if isinstance(v, list | tuple):
        return len(v) > PIECE_ITEMS or any(_big(x) for x in v[:64])
    return False


def dumps_pieces(obj: Any, rounded: bool = True) -> Iterator[str]:
    """The JSON text of :func:`encode.dumps` (``obj``: dicts, lists, NumPy arrays,
    messages; an :class:`Exact` part unrounded), as pieces that each encode a modest
    part: joined, the same bytes."""
    if type(obj) is Exact:
        yield from dumps_pieces(obj.value, rounded=False)
        return
    if isinstance(obj, Message):
        given = obj.model_fields_set
        obj = {k: v for k, v in obj.__dict__.items() if k in given}
    if isinstance(obj, dict):
        yield "{"
        for i, (k, v) in enumerate(obj.items()):
            key = json.dumps(k if type(k) is str else str(k), ensure_ascii=False)
            yield ("," if i else "") + key + ":"
            if _big(v) or isinstance(v, str):
                yield from dumps_pieces(v, rounded)
            else:
                yield encode.dumps(v, rounded)
        yield "}"
    elif isinstance(obj, list | tuple | np.ndarray):
        yield "["
        for i, v in enumerate(obj):
            if i:
                yield ","
            yield from dumps_pieces(v, rounded) if _big(v) else (encode.dumps(v, rounded),)
        yield "]"
    elif isinstance(obj, str) and len(obj) > PIECE_ITEMS:
        # a long text (a state array's base64, a CSV): the standard encoder writes the
        # same bytes with a copy's worth of memory (orjson reserves ~14 bytes a character)
        yield json.dumps(obj, ensure_ascii=False)
    else:
        yield encode.dumps(obj, rounded)


# ---------------------------------------------------------------- ordered commands


async def configure(host: Host, config: Config) -> None:
    """Rebuild from ``config``: its memory checked before anything is built, the data
    loaded (a CSV on the slow thread), then adopted."""
    work = host.workspace
    needed = await host.run(work.estimate, config)
    host.runtime.check_memory(host, needed.total, needed.field)
    before = work.memory
    work.memory = max(before, needed.total)  # held while it is built
    try:
        if config.data.name == "csv":
            exp = await host.run_slow(work.build, config)
        else:
            exp = await host.run(work.build, config)
    except BaseException:
        work.memory = before
        raise
    await host.run(_adopt, work, exp, needed.total)
    await host.publish_all()


def _adopt(work: Workspace, exp: Any, memory: int) -> None:
    work.adopt(exp, memory)
    work.view.focus = 0


async def import_run(host: Host, run: dict[str, Any]) -> None:
    """Restore an exported run: parsed and its memory checked first (one hop), then
    built and loaded (another)."""
    work = host.workspace
    parsed, needed = await host.run(work.parse_run, run)
    host.runtime.check_memory(host, needed.total, "run.config")
    await host.run(work.import_run, run, parsed)
    await host.publish_all()


async def set_training(host: Host, patch: TrainingPatch) -> None:
    """Change the training settings live, the memory they need checked first (a larger
    batch, an optimizer with more state)."""
    work = host.workspace
    needed = await host.run(work.estimate_training, patch)
    if needed.total > work.memory:
        field = "training.batch_size" if "batch_size" in patch.changes else "training.optimizer"
        host.runtime.check_memory(host, needed.total, field)
    await host.run(work.set_training, patch)
    work.memory = needed.total


async def csv_inspect(host: Host, name: str, text: str | None, data: str | None) -> None:
    """Check an uploaded CSV (its text, or its bytes as base64) on the slow thread, keep
    it and describe it."""
    work = host.workspace
    limit = owndata.max_bytes(host.settings.max_upload_bytes)
    raw: str | bytes = text if text is not None else _base64(data or "")
    file, info = await host.run_slow(owndata.inspect, name, raw, limit)
    host.send(await host.run(work.csv_keep, file, info))


def _base64(data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CommandError(f"data: not base64: {exc}", "data", "bad_message") from None
