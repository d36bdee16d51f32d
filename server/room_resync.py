"""History for late followers of a room: one frame carrying the whole history.

Frames carry history *increments*, so a follower that joins late (or dropped frames)
would miss points. When the follower count grows, the owner (``room_links.OwnerLink``)
builds one ``frame`` carrying the whole history (thinned, like any reset) up to its last
frame, on the worker pool, and shares it as kind ``frame_full``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import encode, frames

if TYPE_CHECKING:
    from .workspace import Workspace


def resync_frame_text(work: Workspace) -> str | None:
    """A ``frame`` as the owner's client last saw it, but carrying the whole history up to
    that frame (thinned to ``frames.RESET_POINTS``); ``None`` when the owner's next frame
    resends the whole history anyway, or there is no run."""
    exp = work.experiment
    feed = work.history_feed
    if exp is None or feed.generation is None:
        return None
    inc = exp.history_since(0, None)
    if inc["generation"] != feed.generation:
        return None
    points = inc["points"]
    seqs = np.asarray(points.pop("seq", []))
    n = int(np.count_nonzero(seqs <= feed.seq)) if seqs.size else len(points["step"])
    history = {"reset": True, "stride": inc["stride"]} | frames.thinned(points, n)
    metrics = work.metrics_feed.last
    if metrics is None:
        metrics = exp.metrics()
    message = frames.frame(exp, work.view, history, metrics, work.rewind_range())
    return encode.dumps(message)
