"""A session's run as snapshot text, built off the event loop, and restored from it.

The text is the exact export format (``core.experiment.runs``): the config, history and
training state keep every bit, so a run restored from it takes the next step with
exactly the numbers the original would have. It is built on the worker pool in hops
(the largest network's run is megabytes of text): the export and its exact part in
the first, the readable weights in slices of at most ``jobs.JOB_SLICE`` seconds after
it; a small run's snapshot is one short call. ``resume.py`` decides when to write one
and where it goes; ``rooms.py`` copies a run, and brings a follower's own back, through
the same text.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import ValidationError

from bpviz.core.experiment.runs import RunError, RunFile, export_checkpoints, import_checkpoints

from . import encode, jobs
from .protocol import Focus

if TYPE_CHECKING:
    from .session import Session
    from .workspace import Workspace

ORJSON_PARAMS = 50_000  # parameters up to which a snapshot's exact part goes through orjson
SHORT_PARAMS = 2_000  # parameters up to which a snapshot is a short call (~1–5 ms)
SHORT_WRITE = 0.005  # seconds a short snapshot's call may write before hops of its own
REWIND_BYTES = 64 * 1024  # checkpoints a snapshot keeps besides the run's own state

_json = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def fingerprint(work: Workspace, viewed: bool = False) -> tuple[Any, ...] | None:
    """What changes when the run does (``None``: nothing to write: no run, or the client
    views a past step — unless ``viewed``: then that step is the run to write)."""
    exp = work.experiment
    if exp is None or (work.view.viewing is not None and not viewed):
        return None
    focus = work.view.focus
    return (id(exp), exp.steps_done, exp.cursor, id(exp.config), exp.diverged, focus, work.edits)


def snapshot_run(work: Workspace) -> dict[str, Any]:
    """The run as a snapshot keeps it: its ``export``, and two keys of a snapshot's own
    that an ``import`` ignores — ``rewind``, the newest checkpoints before its step (at
    most ``REWIND_BYTES``, the newest always), from which a restored run replays its last
    step's trace and can be rewound again; ``view``, the focused example."""
    run = work.export_snapshot()
    step = run["state"]["steps_done"]  # (mid-step: the state before that step)
    window = work.rewind.recent(step, REWIND_BYTES)
    work.rewind.forget_exports(window)  # (the others' entries: never written again)
    run["rewind"] = export_checkpoints(window)
    run["view"] = {"focus": work.view.focus}
    return run


def restore_run(work: Workspace, run: dict[str, Any], parsed: RunFile) -> None:
    """Make a snapshot's run the workspace's (:meth:`Workspace.import_run`), then its
    checkpoints: the last step's trace again, exactly as it was (``Rewind.resume``; a
    snapshot without them — or whose replay would not end on its state — comes back
    without a trace), and the focused example."""
    work.import_run(run, parsed)
    entries = run.get("rewind")
    if entries:
        with contextlib.suppress(RunError):
            work.rewind.resume(work.exp, import_checkpoints(entries))
    view = run.get("view")
    focus = view.get("focus") if isinstance(view, dict) else None
    try:  # what a `focus` may ask, or the first example
        work.view.focus = Focus.model_validate({"type": "focus", "example": focus}).example
    except ValidationError:
        work.view.focus = 0


def snapshot_start(
    work: Workspace, skip: tuple[Any, ...] | None = None, viewed: bool = False
) -> tuple[Any, str | None, Iterator[str] | None]:
    """The first hop of a snapshot: the run exported now (one consistent state) with its
    fingerprint; its exact part as text, and the readable weights as pieces of text to
    write in slices. Nothing (``None``) when there is no run to write or it is the one
    written last (``skip``); ``viewed``: a past step viewed is the run (a ``copy``, as an
    ``export`` gives it), else it is not written.

    Exact: the config, history and training state keep every bit; the readable
    ``weights`` and ``batchnorm``, which an import replaces with the exact state, keep 6
    significant digits as in an ``export``."""
    fp = fingerprint(work, viewed)
    if fp is None or fp == skip:
        return fp, None, None
    run = snapshot_run(work)
    weights = run.pop("weights")
    batchnorm = run.pop("batchnorm")
    exact = exact_json(run, small=work.exp.n_params <= ORJSON_PARAMS)
    head = f'{exact[:-1]},"batchnorm":{encode.dumps(batchnorm)},"weights":'
    return fp, head, jobs.dumps_pieces(weights)


def exact_json(obj: Any, small: bool = True) -> str:
    """``obj`` as exact JSON (every float's shortest round-trip digits, a non-finite one
    as ``null``): what ``encode.jsonable(obj, rounded=False)`` then a JSON encoder write,
    parsed back to the same values. ``small``: orjson writes the lists of floats (the
    history) natively, without a walk in Python — a fifth of the time; whatever it
    refuses (an integer beyond 64 bits, a key that is not a string) and a large run
    (whose base64 state orjson would hold at ~14 bytes a character) take the walk."""
    if small:
        with contextlib.suppress(orjson.JSONEncodeError):
            return orjson.dumps(obj, default=_exact_default).decode()
    return _json.encode(encode.jsonable(obj, rounded=False))


def _exact_default(value: Any) -> Any:
    """What orjson does not write itself (NumPy arrays and scalars…), as plain values."""
    return encode.jsonable(value, rounded=False)


def write_for(pieces: Iterator[str], parts: list[str], seconds: float) -> bool:
    """Append pieces of text for about ``seconds``; True when all are written — then
    ``parts`` holds the whole text, closed and joined here, off the event loop."""
    deadline = time.perf_counter() + seconds
    for piece in pieces:
        parts.append(piece)
        if time.perf_counter() >= deadline:
            return False
    parts.append("}")
    parts[:] = ["".join(parts)]
    return True


async def snapshot(
    session: Session, skip: tuple[Any, ...] | None = None, viewed: bool = False
) -> tuple[Any, str | None]:
    """The session's run as the exact export JSON (``None``: nothing to write; ``viewed``:
    see :func:`snapshot_start`), built on
    the worker pool in hops of at most ``jobs.JOB_SLICE`` s (the largest network's run is
    megabytes of text), with its fingerprint. A small run's snapshot (a few
    milliseconds) is one short call (``Session.run_short``): among a class playing, it
    takes its turn in the lane right behind the session's play slice, and no thread
    fights the lane for the GIL."""
    parts: list[str] = []
    exp = session.workspace.experiment
    short = exp is not None and exp.n_params <= SHORT_PARAMS
    budget = SHORT_WRITE if short else jobs.JOB_SLICE

    def first() -> tuple[Any, Iterator[str] | None, bool]:
        start = time.perf_counter()
        fp, head, pieces = snapshot_start(session.workspace, skip, viewed)
        if head is None or pieces is None:
            return fp, None, True
        parts.append(head)
        return fp, pieces, write_for(pieces, parts, budget - (time.perf_counter() - start))

    fp, pieces, done = await (session.run_short if short else session.run)(first)
    if pieces is None:
        return fp, None
    while not done:
        done = await session.run(write_for, pieces, parts, jobs.JOB_SLICE)
    return fp, parts[0]


async def restore(session: Session, text: str) -> None:
    """Make the run of a snapshot the session's, within its memory budget like an
    ``import`` (raises what an import raises; on an error nothing changes)."""
    work = session.workspace
    run = await session.run(json.loads, text)
    parsed, needed = await session.run(work.parse_run, run)
    session.runtime.check_memory(session, needed.total, "run.config")
    await session.run(restore_run, work, run, parsed)
