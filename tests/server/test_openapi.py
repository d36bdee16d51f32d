"""schemathesis against the HTTP API's own OpenAPI schema: no server errors, responses
conform to the schema.

A run that fits the schema can still be refused (weights of the wrong shape for its
config: 400 with a message), so "schema-valid data must be accepted" is not checked.
"""

from __future__ import annotations

import schemathesis
from hypothesis import settings

from bpviz.server.app import create_app

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())


@schema.parametrize()
@settings(max_examples=25, deadline=None)
def test_api(case: schemathesis.Case) -> None:
    case.call_and_validate(excluded_checks=[schemathesis.checks.positive_data_acceptance])
