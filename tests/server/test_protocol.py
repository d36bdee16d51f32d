"""docs/protocol.md cannot drift: every example in it parses with the models."""

import json
import re
from pathlib import Path

import pytest

from bpviz.server.protocol import client_adapter, schemas, server_adapter

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
BLOCK = re.compile(r"```json (client|server)\n(.*?)```", re.S)
EXAMPLES = BLOCK.findall(DOC.read_text(encoding="utf-8"))


def test_the_document_has_examples_of_every_message_type() -> None:
    client_types = {json.loads(b)["type"] for d, b in EXAMPLES if d == "client"}
    server_types = {json.loads(b)["type"] for d, b in EXAMPLES if d == "server"}
    all_client = set(schemas()["client"]["discriminator"]["mapping"])
    all_server = set(schemas()["server"]["discriminator"]["mapping"])
    assert all_client - client_types <= {"import"}  # an exported run is too long to show
    assert all_server - server_types <= {"export", "gradcheck"}


@pytest.mark.parametrize(("direction", "body"), EXAMPLES)
def test_example_parses(direction: str, body: str) -> None:
    adapter = client_adapter if direction == "client" else server_adapter
    message = adapter.validate_json(body)
    assert message.type == json.loads(body)["type"]


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValueError):
        client_adapter.validate_json('{"type": "pause", "extra": 1}')


@pytest.mark.parametrize(
    "body",
    [
        '{"type": "play", "speed": NaN}',
        '{"type": "play", "speed": -1}',
        '{"type": "step", "unit": "sideways"}',
        '{"type": "step", "count": 0}',
        '{"type": "focus", "example": -1}',
        '{"type": "nope"}',
        "{}",
        "[]",
        # typed as a config's keys: no number as a string or a boolean, no "false" (were taken)
        '{"type": "step", "count": "2"}',
        '{"type": "step", "count": true}',
        '{"type": "options", "grids": "false"}',
        '{"type": "options", "exact": 1}',
        '{"type": "play", "speed": "10"}',
        '{"type": "focus", "example": "3"}',
        '{"type": "seek", "step": "3"}',
        '{"type": "set_param", "layer": 1, "param": "W", "index": [0, "1"], "value": 1}',
        '{"type": "set_param", "layer": 1, "param": "W", "index": [0, 1], "value": "0.5"}',
    ],
)
def test_bad_messages_are_rejected(body: str) -> None:
    with pytest.raises(ValueError):
        client_adapter.validate_json(body)


def test_an_integer_may_be_written_as_a_whole_float() -> None:
    """JSON Schema's "integer" takes 2.0, and so does a config: so do the messages."""
    step = client_adapter.validate_json('{"type": "step", "count": 2.0}')
    assert step.type == "step" and step.count == 2 and type(step.count) is int
    play = client_adapter.validate_json('{"type": "play", "speed": 10, "fps": 30.0}')
    assert play.type == "play" and play.speed == 10.0 and play.fps == 30
