"""Flow-run bodies: starting runs, and runs with their node runs as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, computed_field, field_validator

from api.models import ApiModel, PublicModel

FlowRunState = Literal["queued", "running", "completed", "failed", "stopped"]


class FlowRunStart(ApiModel):
    connection_id: str | None = None
    instance_key: str | None = None
    input: Any = None


class FlowRunCreate(ApiModel):
    flow_instance_id: str
    start_node_key: str | None = None
    node_key: str | None = Field(None, description="Membrane's SDK name of startNodeKey.")
    input: Any = None


class FlowRunRerun(ApiModel):
    from_: Literal["start", "failed-node"] = Field("start", alias="from")
    definition: Literal["original", "current"] = "original"


def flat_error(error: Any) -> Any:
    """A node run's error as the API's other errors are: `{type, key, message, data}` with the
    details at the top of `data`.

    Workflows record an activity's failure with the whole error body as its `data` (so
    `data.data.errors`); recorded histories keep that shape, so it is flattened here.
    """
    if not isinstance(error, dict):
        return error
    inner = error.get("data")
    if not isinstance(inner, dict) or not {"key", "message"} <= inner.keys():
        return error  # details of the node's own, not a whole error body
    if isinstance(inner.get("data", {}), dict):
        return {
            "type": inner.get("type", error.get("type")),
            "key": inner["key"],
            "message": error.get("message", inner.get("message")),
            "data": inner.get("data") or {},
        }
    return error


class NodeRunPublic(PublicModel):
    """One execution of one node for one upstream output."""

    id: str
    node_key: str
    node_type: str
    input: Any = None
    outputs: list[Any] = Field(default_factory=list)
    error: dict[str, Any] | None = None
    state: str = Field(description="running, completed, failed or cancelled.")
    attempts: int = Field(0, description="Tries of the node's activities (0 for pure nodes).")
    started_at: str = ""
    finished_at: str | None = None
    duration_ms: float | None = None

    @field_validator("error", mode="before")
    @classmethod
    def _flat(cls, error: Any) -> Any:
        return flat_error(error)


class FlowRunError(PublicModel):
    message: str


class FlowRunSummary(PublicModel):
    """A flow run as lists show it (from Temporal visibility)."""

    id: str
    state: FlowRunState
    flow_key: str | None = None
    flow_instance_id: str | None = None
    connection_id: str | None = None
    customer_id: str | None = None
    trigger_type: str | None = None
    start_time: datetime | None = None
    close_time: datetime | None = None

    # Compatibility fields: the names Membrane's SDK reads for the same values.
    @computed_field(description="Compatibility alias of `customerId`.")  # type: ignore[prop-decorator]
    @property
    def user_id(self) -> str | None:
        return self.customer_id

    @computed_field(description="Compatibility alias of `flowInstanceId`.")  # type: ignore[prop-decorator]
    @property
    def connection_flow_id(self) -> str | None:
        return self.flow_instance_id


class FlowRunPublic(FlowRunSummary):
    """A flow run with its input and node runs; also what the start routes answer."""

    start_node_key: str | None = None
    input: Any = None
    node_runs: list[NodeRunPublic] = Field(default_factory=list)
    failed_node_key: str | None = None
    error: FlowRunError | None = None
    launched_by: dict[str, Any] | None = Field(
        None,
        description="What started the run: `{type: api|external-event|app-event|schedule}` "
        "with `subscriptionId` and `eventId` (external events), `appEventId`, or `scheduleId`.",
    )

    @computed_field(description="Compatibility: the run's id, as start routes answered before.")  # type: ignore[prop-decorator]
    @property
    def flow_run_id(self) -> str:
        return self.id


class FlowRunList(PublicModel):
    items: list[FlowRunSummary]
    cursor: str | None = None


class FlowRunStopped(PublicModel):
    id: str
    state: str = Field(description="`stopping` if it was running, else its final state.")


class FlowRunEventDelivered(PublicModel):
    id: str
    delivered: bool


class FlowRunOutput(PublicModel):
    """What a run produced: the outputs of its completed end nodes, in the order they ran."""

    id: str
    state: str
    output: list[Any]
