"""Property-based API testing: schemathesis generates requests from /api/openapi.json
(signed in as an administrator, CSRF header set) and no request may cause a 5xx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from longpan.web.security import SESSION_COOKIE
from tests.web.conftest import api_token, login


@pytest.fixture
def signed_in(app: FastAPI, make_user: Callable[..., str]) -> dict[str, str]:
    with TestClient(app) as client:
        login(client, make_user("admin"))
        return {
            "Cookie": f"{SESSION_COOKIE}={client.cookies[SESSION_COOKIE]}",
            "X-CSRF-Token": api_token(client),
        }


def test_api_never_fails_with_a_server_error(app: FastAPI, signed_in: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    calls = [_fuzz(operation, signed_in) for operation in operations]
    assert all(n >= 1 for n in calls) and sum(calls) >= 3 * len(operations)


def _fuzz(operation: Any, headers: dict[str, str]) -> int:
    """Run generated cases against one operation; returns how many were sent."""
    sent = []

    @settings(
        max_examples=10,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        sent.append(response.status_code)
        assert response.status_code < 500, (
            case.method,
            case.formatted_path,
            response.text[:300],
        )

    run()
    return len(sent)
