"""A session's commands: each client message, once parsed, dispatched to what it does.

``Session.handle_text`` validates a message into its model (``protocol.py``) and hands
it to :func:`dispatch`, which runs the workspace's method on the worker pool
(``Session.run``) and queues the answer; a long command runs as a job (``jobs.py``), a
room command in ``rooms.py``. A command that may change the run (or the example
focused, which a snapshot keeps) asks for a snapshot of it soon (``resume.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import jobs, rooms
from .protocol import (
    ClientMessage,
    CommandError,
    Configure,
    Copy,
    CsvInspect,
    Export,
    Focus,
    GradCheck,
    GradCheckScaling,
    Import,
    Inspect,
    Options,
    Pause,
    Ping,
    Play,
    Pong,
    Reset,
    RoomClose,
    RoomJoin,
    RoomLeave,
    RoomOpen,
    Seek,
    SetParam,
    SetTraining,
    Step,
)
from .workspace import MAX_STEPS_PER_COMMAND

if TYPE_CHECKING:
    from .session import Session

SLICED_STEPS = 50  # a step/epoch command longer than this trains in slices, like play


async def dispatch(session: Session, msg: ClientMessage) -> None:
    """Do what ``msg`` asks of ``session`` and answer (raises what the command refuses:
    the caller answers it with an ``error``)."""
    work = session.workspace
    if rooms.refuses(session, msg):  # a follower is read-only
        return
    match msg:
        case Configure(config=config):
            await session.player.stop()
            await jobs.configure(session, config)
        case Reset():
            await session.player.stop()
            await session.run(work.reset)
            await session.publish_all()
        case SetTraining(training=patch):
            await jobs.set_training(session, patch)
            session.send_state()
        case SetParam(layer=layer, param=param, index=index, value=value):
            await session.run(work.set_param, layer, param, index, value)
            await session.publish_frame(grid=True)
        case Step(unit=unit, count=count):
            await _step(session, unit, count)
        case Play(speed=speed, fps=fps, until=until):
            session.player.pace(speed, fps)
            if await _diverged(session):
                return
            session.player.play(until)
            session.send_state()
        case Pause():
            await session.player.pause()
            session.send_state()
            await session.publish_frame(grid=True)
        case Focus(example=example):
            work.view.focus = example
            await session.publish_frame(grid=False)
        case Inspect(layer=layer, neuron=neuron):
            text = await session.run(work.inspect_text, layer, neuron)
            if text is None:
                n = len(work.exp.layers)
                if layer > n:
                    message = f"no layer {layer}: the network's layers are 1 to {n}"
                    session.send_error("bad_message", message, "layer")
                else:
                    message = f"no neuron {neuron} in layer {layer}"
                    session.send_error("bad_message", message, "neuron")
            else:
                session.outbox.put(text)
                session.share("inspect", text)
        case GradCheck(max_examples=n):
            session.jobs.start("gradcheck", lambda job: jobs.gradcheck(session, job, n))
        case GradCheckScaling():
            session.jobs.start(
                "gradcheck_scaling", lambda job: jobs.gradcheck_scaling(session, job)
            )
        case CsvInspect(name=name, text=text, data=data):
            await jobs.csv_inspect(session, name, text, data)
        case Seek(step=step):
            await session.player.stop()
            await session.run(work.seek, step)
            await session.publish_frame(grid=True)
        case Export():
            session.jobs.start("export", lambda job: jobs.export(session, job))
        case Import(run=run):
            await session.player.stop()
            await jobs.import_run(session, run)
        case Options():
            view = work.view  # the options named (none named: all to their defaults)
            named = msg.model_fields_set - {"type"} or set(Options.model_fields)
            if "grids" in named:
                view.grids = msg.grids
            again = "exact" in named and view.exact != msg.exact
            if "exact" in named:
                view.exact = msg.exact
            if "frames" in named:
                view.binary = msg.frames == "binary"
            session.send_state()
            if again:  # the frame shown, with its digits as asked (a resumed run's came first)
                await session.publish_frame(grid=False)
        case Ping(id=ident):
            session.send(Pong(type="pong", id=ident))
        case RoomOpen() | RoomJoin() | RoomLeave() | RoomClose() | Copy():
            await rooms.handle(session, msg)
    if not isinstance(msg, Ping | Export | Inspect | GradCheck | GradCheckScaling):
        session.runs.touch(now=isinstance(msg, Pause))  # a snapshot of the run soon


async def _diverged(session: Session) -> bool:
    """Go on from the step shown (after a rewind); a diverged run refuses to train."""
    work = session.workspace
    if work.view.viewing is not None:
        await session.run(work.branch)
    if work.exp.diverged:
        session.send_error("diverged", "the run diverged; reset it to go on")
        return True
    return False


async def _step(session: Session, unit: str, count: int) -> None:
    """``step``: ``count`` phases, steps or epochs; a long run trains in slices like play."""
    await session.player.stop()
    if await _diverged(session):
        return
    exp = session.workspace.exp
    steps = exp.steps_to_epoch_end(count) if unit == "epoch" else count
    if unit in ("step", "epoch") and steps > SLICED_STEPS:
        if steps > MAX_STEPS_PER_COMMAND:
            message = (
                f"that is {steps:,} training steps in one command (the limit is "
                f"{MAX_STEPS_PER_COMMAND:,}); use play instead"
            )
            limit = MAX_STEPS_PER_COMMAND
            error = CommandError(message, "count", "too_much_work", steps=steps, max=limit)
            session.report(error, "step")
            return
        session.player.run_steps(steps)  # in slices like play, so pause can stop them
        session.send_state()
        return
    before = exp.steps_done
    left = count
    while left and not session.closed:  # slices, so other sessions run between
        left = await session.run(session.workspace.advance, unit, left)
    await session.publish_frame(grid=exp.steps_done != before)
