"""schemathesis against the OpenAPI document: no 5xx and no response outside the schema.

Runs in-process against the ASGI app on a real database with a town, orders and users, as
an administrator (who may call everything); a few examples per operation keep it quick.
The event stream never ends, so it is left out here and tested in test_stream.py.
Requests go through the test client: schemathesis's own transports use `requests`, which
the urllib3-future package (pulled in by grafana-client) breaks in this environment.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import open311_store
from tests.api import town
from tests.api.conftest import Tokens


@pytest.fixture
def api_schema(client: TestClient, tokens: Tokens, conn: psycopg.Connection[Any]) -> Any:
    """The app's OpenAPI document, with data behind it."""
    town.build(conn)
    town.standard_orders(conn)
    open311_store.create_key(conn, "schemathesis")
    app = client.app
    assert isinstance(app, FastAPI)
    return schemathesis.openapi.from_dict(app.openapi())


def _send(client: TestClient, case: Any, headers: dict[str, str]) -> Any:
    """Send a generated case through the test client (schemathesis's own transports use
    `requests`, which the urllib3-future package in this environment breaks)."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    data = kwargs.pop("data", None)
    if isinstance(data, bytes | str):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    kwargs.pop("cookies", None)
    response = client.request(**kwargs)
    response.request.read()
    return response


def test_no_server_error_and_no_schema_violation(api_schema: Any, client: TestClient,
                                                 tokens: Tokens) -> None:
    checks = [not_a_server_error, response_schema_conformance, status_code_conformance,
              content_type_conformance]
    operations = [result.ok() for result in api_schema.get_all_operations()]
    # Route planning (api/routes/routes.py) is its own part with its own tests; only its
    # read-only preview is checked here.
    operations = [op for op in operations if "/stream/" not in op.path
                  and (not op.path.startswith("/api/v1/routes")
                       or (op.path == "/api/v1/routes/preview" and op.method.upper() == "GET"))]
    # 42 on main, the green-area portal's 17 (issue 17), the crew app's 3 (issue 14) and the
    # citizens' channel's 7 (issue 18: Open311 discovery and media, the report page's five
    # public report endpoints) and the weather status (issue 19).
    assert len(operations) == 42 + 17 + 3 + 7 + 1
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=4, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            case.validate_response(_send(client, case, tokens.admin), checks=checks)

        check()
