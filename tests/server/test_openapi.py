"""schemathesis against the HTTP API's own OpenAPI schema: no server errors, responses
conform to the schema."""

from __future__ import annotations

import schemathesis
from hypothesis import settings

from bpviz.server.app import create_app

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())


@schema.parametrize()
@settings(max_examples=25, deadline=None)
def test_api(case: schemathesis.Case) -> None:
    case.call_and_validate()
