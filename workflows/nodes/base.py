"""The contract of a node type: how the flow interpreter runs one node.

A node type's `run` executes inside workflow code, so it must be deterministic: pure nodes
evaluate formulas directly; nodes that touch anything call an activity method through `ctx`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

from workflows.nodes.errors import node_error
from workflows.patching import patched

with workflow.unsafe.imports_passed_through():
    from core import patches
    from core.formulas import UNDEFINED, evaluate, matches_filter

DEFAULT_TIMEOUT = timedelta(minutes=2)
"""Start-to-close of an activity that makes no external call (a database write)."""

HTTP_TIMEOUT_SECONDS = 30.0
"""The worker's HTTP timeout (`OSMO_HTTP_TIMEOUT_SECONDS`); `worker.py` sets it at start.

Activity options are not part of what replay compares, so a deployment changing it never
breaks a recorded history."""
HTTP_CALLS_PER_ATTEMPT = 4
"""What one attempt may send: a token refresh, the request, a refresh after a 401, the
request again."""
ATTEMPT_MARGIN = timedelta(seconds=30)
"""Waiting for room in the connection's request budget (`BUDGET_MAX_WAIT`) and the database."""
HEARTBEAT_TIMEOUT = timedelta(seconds=5)
"""How soon a lost worker is noticed while one of its activities calls an app: the
activities beat every second (`activities/heartbeat.py`)."""


def use_http_timeout(seconds: float) -> None:
    """Sets the HTTP timeout activity timeouts follow (the worker's setting)."""
    global HTTP_TIMEOUT_SECONDS
    HTTP_TIMEOUT_SECONDS = seconds


@dataclass(frozen=True)
class ActivityTimeouts:
    start_to_close: timedelta
    heartbeat: timedelta | None


def activity_timeouts(
    node: dict[str, Any],
    http_timeout: float,
    *,
    heartbeats: bool,
    default: timedelta | None = None,
) -> ActivityTimeouts:
    """The timeouts of one activity of `node`.

    A worker that dies mid-call must be noticed in seconds, not after a start-to-close of
    minutes (the write would be retried only then): activities that call apps heartbeat, and
    their start-to-close follows from the HTTP timeout. A node's `timeoutSeconds` still wins,
    then `default` (the caller's own bound).

    Args:
        node: The node's definition.
        http_timeout: Seconds one HTTP call may take.
        heartbeats: Whether the activity heartbeats (see `activities/heartbeat.py`).
        default: The start-to-close when the node sets none.
    """
    seconds = node.get("timeoutSeconds")
    if seconds:
        start_to_close = timedelta(seconds=float(seconds))
    elif default is not None:
        start_to_close = default
    elif heartbeats:
        start_to_close = timedelta(seconds=http_timeout * HTTP_CALLS_PER_ATTEMPT) + ATTEMPT_MARGIN
    else:
        start_to_close = DEFAULT_TIMEOUT
    return ActivityTimeouts(start_to_close, HEARTBEAT_TIMEOUT if heartbeats else None)


LOCAL_ACTIVITIES_PATCH = patches.LOCAL_ACTIVITIES
"""Runs recorded before short steps ran as local activities scheduled regular ones: they replay
as recorded; runs started since run those steps locally."""

LOCAL_ACTIVITY_LIMIT = timedelta(minutes=5)
"""The longest start-to-close timeout a step may have and still run as a local activity. A local
activity holds the run's workflow task open (the SDK extends it past the task timeout), cannot
heartbeat and runs again in full if the worker dies before the task completes; a step allowed
longer than this schedules a regular activity."""


def retry_policy(node: dict[str, Any]) -> RetryPolicy:
    """Bounded retries, overridable per node (`retry: {maximumAttempts, ...}`)."""
    retry = node.get("retry") or {}
    return RetryPolicy(
        initial_interval=timedelta(seconds=float(retry.get("initialIntervalSeconds", 1))),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=float(retry.get("maximumIntervalSeconds", 60))),
        maximum_attempts=int(retry.get("maximumAttempts", 5)),
    )


ArgT = TypeVar("ArgT")
ResultT = TypeVar("ResultT")

LOCAL_RETRY_THRESHOLD = timedelta(seconds=2)
"""Retries of a local activity waiting longer than this (a `Retry-After`, a grown backoff) wait
in a durable timer instead of in the worker, so they hold no workflow task and survive a crash."""


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
    trigger_input: Any = None
    """The run's input: what trigger nodes output."""
    upstream_output: Any = None
    """The output this node runs for: what `filter` and `delay` pass on."""
    item_index: int = 0
    """The node run's position in the run, which keeps idempotency keys apart."""
    node_run_id: str | None = None
    """Names the node run's activities `<node run id>/<n>`; None in runs recorded before
    activities were named (their histories must replay unchanged)."""
    activities: int = 0
    """Activities this node run has started (numbers their ids)."""
    carried: Any = None
    """What this node's previous run for the same input left in `again` (None: first run)."""
    again: Any = None
    """Set by a node that must run once more for the same input, after the sub-graphs of
    its outputs, with this as `carried` (the next page of a whole collection). A small,
    JSON-able value: it is carried in pending work, through continue-as-new."""

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.node.get("config") or {})

    def evaluate(self, value: Any) -> Any:
        """Evaluates a config value (pure formulas) against the node's variables."""
        result = evaluate(value, self.variables)
        return None if result is UNDEFINED else result

    def matches(self, condition: Any) -> bool:
        return matches_filter(condition, self.variables)

    async def activity(
        self,
        method: Callable[[Any, ArgT], Awaitable[ResultT]],
        argument: ArgT,
        *,
        timeout: timedelta | None = None,
        local: bool = False,
    ) -> ResultT:
        """Runs an activity method with the node's timeout and retry settings.

        With `local`, a short step runs as a local activity: the worker runs it within the
        run's workflow task and the history records its result as one marker when that task
        completes, instead of three events and two round trips through the server. Durability
        holds as for a regular activity: a worker that dies before the task completes leaves no
        marker, so the next worker runs the step again (at least once, hence the idempotency
        keys); once the marker is recorded, replay reads the result and never runs the step
        again. Retries run in the worker too (with the same policy, timers for long backoffs).

        Args:
            method: The activity, referenced on its class (`ConnectorActivities.api_request`):
                its name and result type come from its definition.
            argument: Its one typed input.
            timeout: The start-to-close timeout when the node sets no `timeoutSeconds`.
            local: The step is one bounded request that does not heartbeat (no pagination,
                no long polling); it runs locally unless its timeout exceeds
                `LOCAL_ACTIVITY_LIMIT`.

        Returns:
            The activity's result, decoded as its return annotation says.
        """
        timeouts = activity_timeouts(
            self.node,
            HTTP_TIMEOUT_SECONDS,
            heartbeats=getattr(method, "heartbeats", False),
            default=timeout,
        )
        activity_id = None
        if self.node_run_id is not None:
            self.activities += 1
            activity_id = f"{self.node_run_id}/{self.activities}"
        if (
            local
            and timeouts.start_to_close <= LOCAL_ACTIVITY_LIMIT
            and patched(LOCAL_ACTIVITIES_PATCH)
        ):
            # No heartbeat: a local activity runs inside the workflow task, and a worker lost
            # mid-step is noticed when that task times out (seconds), then the step runs again.
            return await workflow.execute_local_activity_method(
                method,
                argument,
                start_to_close_timeout=timeouts.start_to_close,
                retry_policy=retry_policy(self.node),
                local_retry_threshold=LOCAL_RETRY_THRESHOLD,
                summary=f"{self.node_key}: {self.summary or self.node.get('type')}",
                activity_id=activity_id,
            )
        return await workflow.execute_activity_method(
            method,
            argument,
            start_to_close_timeout=timeouts.start_to_close,
            heartbeat_timeout=timeouts.heartbeat,
            retry_policy=retry_policy(self.node),
            summary=f"{self.node_key}: {self.summary or self.node.get('type')}",
            activity_id=activity_id,
        )

    def connection(self, node_type: str) -> str:
        """The run's connection id, for nodes that call an external app through it.

        Raises:
            ApplicationError: `connection_required` when the run has no connection.
        """
        if self.connection_id is None:
            raise node_error("connection_required", f"{node_type} needs a connection")
        return self.connection_id

    def idempotency_key(self) -> str:
        """Stable across retries and replays of this node run."""
        return f"{self.run_id}:{self.node_key}:{self.item_index}"


class NodeType(ABC):
    """A node type's implementation; subclasses set `type` and implement `run`.

    What the type accepts is declared as data in core/elements/node_schemas.py.
    """

    type: ClassVar[str]

    @abstractmethod
    async def run(self, ctx: NodeContext) -> list[Any]:
        """Returns the node's outputs; each output continues along the node's links."""
