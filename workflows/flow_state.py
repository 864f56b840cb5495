"""Values a flow run carries: its input snapshot, node runs, and its result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
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


@dataclass
class FlowRunInput:
    snapshot: FlowSnapshot
    input: Any = None
    start_node_key: str | None = None
    trigger_type: str = "api-trigger"
    start_outputs: dict[str, Any] = field(default_factory=dict)
    """Upstream outputs when starting at a node other than the trigger (re-runs)."""


@dataclass
class NodeRun:
    """One execution of one node for one upstream output."""

    id: str
    node_key: str
    node_type: str
    input: Any
    outputs: list[Any] = field(default_factory=list)
    error: dict[str, Any] | None = None
    state: str = "running"  # running | completed | failed | skipped
    attempts: int = 0
    started_at: str = ""
    finished_at: str | None = None
    duration_ms: float | None = None


@dataclass
class FlowRunResult:
    state: str  # completed | failed
    node_runs: list[NodeRun]
    error: dict[str, Any] | None = None
    failed_node_key: str | None = None
