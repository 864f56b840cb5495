"""Schemathesis over the whole OpenAPI of a running Osmo (real HTTP, Temporal and a worker),
as an admin and as a customer: no 5xx, no undeclared status, no response off its schema.

Seeded (`derandomize`) and bounded: a few examples per operation, once with generated path
parameters and once with the seeded objects' ids, so the routes are reached beyond their 404s.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
import schemathesis.specs.openapi.schemas  # on the main thread: see below
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from temporalio.testing import WorkflowEnvironment

from tests.api.openapi_calls import Operation, fill
from tests.api.seed import Seeded, seed
from tests.conftest import (
    CRM_CLIENT,
    POSTGRES_URL,
    Osmo,
    _postgres_database,
    make_settings,
    start_osmo,
)
from tests.fakes import FakeCRM, serve

# schemathesis.specs.openapi.schemas is imported here, on the main thread, rather than lazily
# by `schemathesis.openapi.from_dict` in the fuzzing thread: pytest rewrites schemathesis'
# modules (it is a pytest plugin) with `ast.parse`, and CPython 3.11 parsing in a thread raised
# "SystemError: AST constructor recursion depth mismatch" there.
from tests.workflows.flow_fixtures import flow_worker

EXAMPLES_PER_OPERATION = 4
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]


@pytest.fixture(scope="module")
def crm_url() -> Iterator[str]:
    fake = FakeCRM()
    fake.register_client(*CRM_CLIENT)
    fake.add_user("alice", "wonderland", "alice@example.com")
    with serve(fake.app) as url:
        yield url


@pytest.fixture
async def fuzzed(
    request: pytest.FixtureRequest, tmp_path: Path, crm_url: str, env: WorkflowEnvironment
) -> AsyncIterator[tuple[Osmo, Seeded]]:
    """A seeded Osmo with a worker, on the backend the test names (PostgreSQL when it is
    configured, else SQLite)."""
    databases = _postgres_database() if request.param == "postgres" and POSTGRES_URL else None
    url = next(databases) if databases else f"sqlite:///{tmp_path / 'osmo.db'}"
    # No rate limit: the fuzzer's burst is not what is under test here.
    settings = make_settings(url, rate_limit_per_second=0)
    try:
        async for osmo in start_osmo(settings):
            async with flow_worker(osmo, env):
                seeded = await seed(osmo, crm_url)
                run = await osmo.call(
                    "POST",
                    f"/connections/{seeded.connection_id}/flows/notify/run",
                    tenant=seeded.tenant,
                    json={},
                )
                assert run.status_code == 201, run.text
                seeded.run_id = run.json()["flowRunId"]
                yield osmo, seeded
    finally:
        if databases:
            next(databases, None)  # drops the database


def _fuzz(osmo: Osmo, seeded: Seeded, headers: dict[str, str]) -> tuple[int, int, list[str]]:
    """Runs every operation; returns how many operations and calls, and the failures
    (operation, example, what failed)."""
    raw = requests.get(f"{osmo.url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(raw)
    failures: list[str] = []
    session = requests.Session()
    counts = {"operations": 0, "calls": 0}
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # Osmo's own OpenAPI must load whole
        operation = result.ok()
        counts["operations"] += 1
        template = Operation(operation.method.upper(), operation.path, operation.definition.raw)
        filled = fill(template, seeded, raw) if template.path_params else None
        seeded_params = _path_values(template.path, filled) if filled else None
        variants: list[tuple[GenerationMode, dict[str, str] | None]] = [
            (GenerationMode.POSITIVE, None)
        ]
        if _has_inputs_to_negate(template):
            variants.append((GenerationMode.NEGATIVE, None))
        if seeded_params:
            variants.append((GenerationMode.POSITIVE, seeded_params))
        for mode, path_parameters in variants:
            strategy = operation.as_strategy(mode, path_parameters=path_parameters)

            @hypothesis.settings(
                max_examples=EXAMPLES_PER_OPERATION,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(hypothesis.HealthCheck),
                phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            )
            @hypothesis.given(case=strategy)
            def check(case: Any) -> None:
                response = case.call(base_url=osmo.url, session=session, headers=headers)
                counts["calls"] += 1
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except (AssertionError, BaseExceptionGroup) as exc:  # the failed checks
                    failures.append(f"{case.method} {case.formatted_path}: {exc}"[:1500])

            try:
                check()
            except hypothesis.errors.Unsatisfiable:
                # Nothing of this operation's inputs can be made invalid (free-form strings).
                assert mode is GenerationMode.NEGATIVE, operation.label
    return counts["operations"], counts["calls"], failures


def _has_inputs_to_negate(operation: Operation) -> bool:
    """Whether invalid examples are cheap to make: a body or a typed query parameter.

    Path parameters are strings that accept anything, so negating only them makes the
    generator search long for nothing; valid examples cover them.
    """
    if "requestBody" in operation.spec:
        return True
    return any(p["in"] == "query" for p in operation.spec.get("parameters", []))


def _path_values(template: str, filled: str) -> dict[str, str]:
    names = re.findall(r"\{(\w+)\}", template)
    pattern = re.escape(template)
    for name in names:
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>.+?)", 1)
    match = re.fullmatch(pattern, filled)
    assert match, (template, filled)
    return match.groupdict()


@pytest.mark.timeout(600)
# One role per backend keeps the budget: each role's routes are the same on both, and the
# database-specific failures (PostgreSQL refuses what SQLite keeps) show under either role.
@pytest.mark.parametrize(
    ("role", "fuzzed"), [("admin", "postgres"), ("customer", "sqlite")], indirect=["fuzzed"]
)
async def test_fuzz_the_whole_api(fuzzed: tuple[Osmo, Seeded], role: str) -> None:
    osmo, seeded = fuzzed
    tenant = seeded.tenant if role == "customer" else None
    headers = {**osmo.headers(tenant), "X-Fuzz-Run": uuid.uuid4().hex}
    # In a thread: the worker and Temporal's client live on this loop and must keep running.
    operations, calls, failures = await asyncio.to_thread(_fuzz, osmo, seeded, headers)
    assert not failures, "\n\n".join(failures)
    assert operations > 150 and calls > 2 * operations, (operations, calls)
