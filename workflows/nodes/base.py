"""The contract of a node type: how the flow interpreter runs one node.

A node type's `run` executes inside workflow code, so it must be deterministic: pure nodes
evaluate formulas directly; nodes that touch anything call an activity through `ctx`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from core.formulas import UNDEFINED, evaluate, matches_filter

DEFAULT_TIMEOUT = timedelta(minutes=2)


def retry_policy(node: dict[str, Any]) -> RetryPolicy:
    """Bounded retries, overridable per node (`retry: {maximumAttempts, ...}`)."""
    retry = node.get("retry") or {}
    return RetryPolicy(
        initial_interval=timedelta(seconds=float(retry.get("initialIntervalSeconds", 1))),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=float(retry.get("maximumIntervalSeconds", 60))),
        maximum_attempts=int(retry.get("maximumAttempts", 5)),
    )


@dataclass
class NodeContext:
    """What a node sees: its definition, the variables formulas read, and the run's ids."""

    node_key: str
    node: dict[str, Any]
    variables: dict[str, Any]
    connection_id: str | None
    run_id: str
    summary: str = ""
    events: list[Any] = field(default_factory=list)
    """Events signalled to the run and not yet taken (the run's own list, shared by nodes)."""
    extra: dict[str, Any] = field(default_factory=dict)
    activities: int = 0
    """Activities this node run has started (numbers their ids)."""

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.node.get("config") or {})

    def evaluate(self, value: Any) -> Any:
        """Evaluates a config value (pure formulas) against the node's variables."""
        result = evaluate(value, self.variables)
        return None if result is UNDEFINED else result

    def matches(self, condition: Any) -> bool:
        return matches_filter(condition, self.variables)

    async def activity(self, name: str, argument: Any, *, timeout: timedelta | None = None) -> Any:
        """Runs an activity with the node's timeout and retry settings.

        In runs that name node runs (`node_run_id`), the activity id is
        `<node run id>/<n>`, so attempts can be told per node run from history.
        """
        seconds = self.node.get("timeoutSeconds")
        node_run_id = self.extra.get("node_run_id")
        activity_id = None
        if node_run_id is not None:
            self.activities += 1
            activity_id = f"{node_run_id}/{self.activities}"
        return await workflow.execute_activity(
            name,
            argument,
            start_to_close_timeout=timedelta(seconds=seconds)
            if seconds
            else timeout or DEFAULT_TIMEOUT,
            retry_policy=retry_policy(self.node),
            summary=f"{self.node_key}: {self.summary or self.node.get('type')}",
            activity_id=activity_id,
        )

    def idempotency_key(self) -> str:
        """Stable across retries and replays of this node run."""
        return f"{self.run_id}:{self.node_key}:{self.extra.get('item_index', 0)}"


class NodeType(ABC):
    """Base class; subclasses set `type` and implement `run`."""

    type: ClassVar[str]
    is_trigger: ClassVar[bool] = False
    config_schema: ClassVar[dict[str, Any]] = {"type": "object"}

    @abstractmethod
    async def run(self, ctx: NodeContext) -> list[Any]:
        """Returns the node's outputs; each output continues along the node's links."""
