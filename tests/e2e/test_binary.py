"""Binary frames in the browser: ``wire.js`` decodes what the server packs to the very
message its JSON text gives, and the page asks for binary frames and draws them."""

from __future__ import annotations

from typing import Any

READY = "() => window.bpviz && window.bpviz.connected && window.bpviz.frames >= 2"
IDLE = "() => !window.bpviz.animating"

SCRIPT = [
    {
        "type": "configure",
        "config": {
            "data": {"name": "xor"},
            "network": {"hidden": [{"units": 5, "activation": "relu"}]},
        },
    },
    {"type": "step", "unit": "phase"},
    {"type": "step", "unit": "forward"},
    {"type": "step", "unit": "step", "count": 3},
    {"type": "focus", "example": 2},
    {"type": "configure", "config": {"data": {"name": "square"}}},
    {"type": "step", "unit": "step", "count": 5},
]

# Two sessions, one JSON and one binary, through the same commands: their frames and grids.
BOTH_WAYS = """async (script) => {
    const { decode } = await import('/static/js/shared/wire.js');
    async function session(binary) {
        const ws = new WebSocket(`ws://${location.host}/ws`);
        ws.binaryType = 'arraybuffer';
        const queue = [];
        let wake = null;
        ws.onmessage = (e) => {
            const kind = typeof e.data === 'string' ? 'text' : 'bytes';
            const message = kind === 'text' ? JSON.parse(e.data) : decode(e.data);
            queue.push([kind, message]);
            if (wake) { wake(); wake = null; }
        };
        await new Promise((ok) => { ws.onopen = ok; });
        const next = async () => {
            while (!queue.length) await new Promise((ok) => { wake = ok; });
            return queue.shift();
        };
        const until = async (type) => {
            for (;;) {
                const [kind, m] = await next();
                if (m.type === 'error') throw new Error(JSON.stringify(m));
                if (m.type === type) return [kind, m];
            }
        };
        await until('grid');
        if (binary) {
            ws.send(JSON.stringify({ type: 'options', frames: 'binary' }));
            await until('state');
        }
        const out = [];
        for (const cmd of script) {
            ws.send(JSON.stringify(cmd));
            out.push(await until('frame'));
            if (cmd.type === 'configure' || cmd.unit === 'step') out.push(await until('grid'));
        }
        ws.close();
        return out;
    }
    return [await session(false), await session(true)];
}"""


def round6(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, list):
        return [round6(v) for v in value]
    if isinstance(value, dict):
        return {k: round6(v) for k, v in value.items()}
    return value


# Columns a burst fills only when the evaluation's time budget allows (docs/protocol.md,
# `history`): two sessions may evaluate different points of the same burst.
BUDGETED = ("train_loss", "test_loss", "train_acc", "test_acc")


def folded(history: dict[str, Any]) -> None:
    """Fold the point holding only a command's closing evaluation into its step's own
    point (docs/protocol.md: when the budget skipped that step's evaluation, a second
    point for the same step follows): where one session's budget skipped it and the
    other's did not, both histories then have the same points."""
    steps = history.get("step") or []
    if len(steps) < 2 or steps[-1] != steps[-2]:
        return
    n = len(steps)
    for values in history.values():
        if isinstance(values, list) and len(values) == n:
            last = values.pop()
            if last is not None:
                values[-1] = last


def evaluated_alike(got: dict[str, Any], want: dict[str, Any]) -> None:
    """Blank, in both frames, the budgeted history values that only one of them holds;
    the last point of a command is always evaluated, so each column keeps values to
    compare."""
    a, b = got.get("history"), want.get("history")
    if not a or not b:
        return
    folded(a)
    folded(b)
    for column in BUDGETED:
        x, y = a.get(column), b.get(column)
        if x is None or y is None or len(x) != len(y):
            continue
        for i, (u, v) in enumerate(zip(x, y, strict=True)):
            if (u is None) != (v is None):
                x[i] = y[i] = None
        assert not x or x[-1] is not None or column.endswith("acc"), (column, x)


def test_wire_decodes_what_json_gives(page: Any, base_url: str) -> None:
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto(f"{base_url}/healthz")
    plain, packed = page.evaluate(BOTH_WAYS, SCRIPT)
    assert {kind for kind, _ in plain} == {"text"}
    assert {kind for kind, _ in packed} == {"bytes"}
    assert [m["type"] for _, m in packed] == [m["type"] for _, m in plain]
    for (_, want), (_, got) in zip(plain, packed, strict=True):
        evaluated_alike(got, want)
        assert round6(got) == round6(want)


def test_the_page_draws_binary_frames(page: Any, base_url: str, screenshot: Any) -> None:
    received: list[str] = []

    def watch(ws: Any) -> None:
        ws.on("framereceived", lambda payload: received.append(type(payload).__name__))

    page.on("websocket", watch)
    page.goto(f"{base_url}/#data=xor&hidden=3:tanh&batch=4&seed=3")
    page.wait_for_function(READY)
    page.wait_for_function(IDLE)
    before = page.evaluate("() => window.bpviz.frames")
    page.click("[data-step=step]")
    page.wait_for_function(f"() => window.bpviz.frames > {before}")
    page.wait_for_function(IDLE)
    frame = page.evaluate("() => window.bpviz.frame")
    assert frame["step"] >= 1 and frame["layers"][0]["W"] is not None
    assert "bytes" in received, received  # frames and grids came binary
    assert page.locator("#connection[data-status=open]").count() == 1
    screenshot(page, "binary-01-stepped")
