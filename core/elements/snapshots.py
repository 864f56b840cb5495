"""Resolved, immutable inputs of runs: what a workflow gets instead of live configuration.

Field names and order are part of recorded workflow histories (payloads are these dataclasses
as JSON), so they change only by adding fields with defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FlowSnapshot:
    """An immutable, resolved flow instance: the workflow never reads live configuration."""

    flow_key: str
    flow_instance_id: str
    nodes: dict[str, dict[str, Any]]
    parameters: dict[str, Any] = field(default_factory=dict)
    connection_id: str | None = None
    customer_id: str | None = None
    integration_key: str | None = None
    revision: int = 0
    tenant_key: str | None = None
    """The customer's id in the product (absent from snapshots taken before it was added)."""
    max_parallel_runs: int | None = None
    """The flow's `maxParallelRuns`: its runs of one connection running at once, within the
    connection's limit (docs/limits.md)."""


@dataclass(frozen=True)
class ActionSnapshot:
    """An action instance resolved for one connection: everything a run needs, nothing live."""

    action_key: str
    action_instance_id: str
    type: str
    config: dict[str, Any]
    input_schema: dict[str, Any] | None = None
    output_mapping: Any = None
    connection_id: str | None = None
    customer_id: str | None = None
    tenant_key: str | None = None
    integration_key: str | None = None
    revision: int = 0
