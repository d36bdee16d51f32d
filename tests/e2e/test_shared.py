"""The page modules both pages share (frontend/static/js/shared/), run in the browser."""

from __future__ import annotations

from typing import Any


def run(page: Any, base_url: str, script: str) -> Any:
    """Evaluate `script` (an async function) on a page of the server's origin (no page script)."""
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto(f"{base_url}/healthz")
    return page.evaluate(script)


def test_history_merges_increments(page: Any, base_url: str) -> None:
    """Increments append; `start` cuts a branch's tail; `reset` starts over (docs/protocol.md)."""
    out = run(
        page,
        base_url,
        """async () => {
            const { History } = await import('/static/js/shared/history.js');
            const h = new History(['step', 'train_loss']);
            const cols = () => structuredClone(h.cols);
            const log = [];
            log.push([h.add({ step: [1, 2, 3], train_loss: [0.9, 0.8, 0.7], other: [1] }), cols()]);
            log.push([h.add({ start: 1, step: [2], train_loss: [0.5] }), cols()]);
            log.push([h.add({ step: [3], train_loss: [0.4] }), cols()]);
            log.push([h.add({ reset: true, step: [0], train_loss: [1.0] }), cols(), h.length]);
            log.push([h.add(null), h.length]);
            return log;
        }""",
    )
    assert out[0] == [False, {"step": [1, 2, 3], "train_loss": [0.9, 0.8, 0.7]}]
    assert out[1] == [True, {"step": [1, 2], "train_loss": [0.9, 0.5]}]
    assert out[2] == [False, {"step": [1, 2, 3], "train_loss": [0.9, 0.5, 0.4]}]
    assert out[3] == [True, {"step": [0], "train_loss": [1.0]}, 1]
    assert out[4] == [False, 1]


def test_choices_are_the_servers(page: Any, base_url: str) -> None:
    """Choices reads the lists, loss ↔ task and data-set shapes from /api/schema and /api/datasets."""
    out = run(
        page,
        base_url,
        """async () => {
            const { loadChoices } = await import('/static/js/shared/choices.js');
            const c = await loadChoices();
            const schema = (await (await fetch('/api/schema')).json()).choices;
            return {
                schema,
                activations: c.activations, inits: c.inits, optimizers: c.optimizers,
                losses: c.losses, tasks: c.tasks, names: c.datasets.map((d) => d.name),
                binary: c.lossesFor('binary'), multiclass: c.lossesFor('multiclass'),
                regression: c.lossesFor('regression'),
                digits: c.dataset('digits'), none: c.dataset('nope'),
                defaultDigits: c.defaultLoss('digits'), fits: c.fits('bce', 'regression'),
            };
        }""",
    )
    schema = out["schema"]
    assert out["activations"] == schema["activations"]
    assert out["inits"] == schema["inits"]
    assert out["optimizers"] == [o["name"] for o in schema["optimizers"]]
    assert out["losses"] == [loss["name"] for loss in schema["losses"]]
    assert out["tasks"] == sorted({t for loss in schema["losses"] for t in loss["tasks"]})
    assert set(out["names"]) == set(schema["datasets"])
    for task in ("binary", "multiclass", "regression"):
        assert out[task] == [loss["name"] for loss in schema["losses"] if task in loss["tasks"]]
    digits = schema["datasets"]["digits"]
    assert {k: out["digits"][k] for k in digits} == digits
    assert out["none"] is None
    assert out["defaultDigits"] in out["multiclass"]
    assert out["fits"] is False
