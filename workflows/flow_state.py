"""Values a flow run carries: its input snapshot, pending work, node runs, and its result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.elements.snapshots import FlowSnapshot

__all__ = ["FlowSnapshot"]  # re-exported: it moved to core, where the API resolves it

DEFAULT_HISTORY_LIMIT = 10_000
"""Continue as new once the history has this many events (Temporal's hard limit is 51,200)."""

DEFAULT_CONNECTION_LIMIT = 10
"""Defaults of `FlowRunInput.connection_limit` and `queue_limit`, as the settings'
(`flow_runs_per_connection`, `connection_queue_limit`)."""
DEFAULT_QUEUE_LIMIT = 10_000

SEED = -1
"""Node-run index of an output given in `FlowRunInput.start_outputs` (re-runs from a node)."""


@dataclass
class Job:
    """One node to run for one upstream output.

    Outputs are referenced, not copied: `path` maps each upstream node key to
    `[node run index, output index]` (index `SEED` reads `start_outputs`), so a for-each over
    a page of records does not copy the page into every item's pending work and node run.
    """

    node_key: str
    path: dict[str, list[int]] = field(default_factory=dict)
    upstream: str | None = None
    """The key in `path` of the output this job runs for (None: the run's input)."""
    carried: Any = None
    """What the node's previous run for the same input asked to be run again with (a
    whole-collection list's next page: `{cursor, seen}`); None for a node's first run."""


@dataclass
class Lane:
    """A line of work run depth first: `group` (a bounded fan-out) first, then `jobs`."""

    jobs: list[Job] = field(default_factory=list)
    """A stack: the last job runs next."""
    group: Group | None = None


@dataclass
class Group:
    """Lanes run at most `limit` at a time (a node's `concurrency` over its outputs)."""

    limit: int
    lanes: list[Lane] = field(default_factory=list)


@dataclass
class FlowRunInput:
    snapshot: FlowSnapshot
    input: Any = None
    start_node_key: str | None = None
    trigger_type: str = "api-trigger"
    start_outputs: dict[str, Any] = field(default_factory=dict)
    """Upstream outputs when starting at a node other than the trigger (re-runs)."""
    resume: Lane | None = None
    """Pending work carried over by continue-as-new (None: start at the start node)."""
    node_runs: list[NodeRun] = field(default_factory=list)
    """Node runs of the earlier runs of this flow run (continue-as-new)."""
    events: list[Any] = field(default_factory=list)
    """Events signalled and not yet taken, carried over by continue-as-new."""
    history_limit: int = DEFAULT_HISTORY_LIMIT
    continued: int = 0
    """How many times this flow run continued as new."""
    inherited: int = 0
    """How many of the first `node_runs` are the failed run's this run re-runs: kept so the
    references of `resume` resolve, but not this run's own (the API leaves them out)."""
    connection_limit: int | None = DEFAULT_CONNECTION_LIMIT
    """Flow runs of the connection running at once (`OSMO_FLOW_RUNS_PER_CONNECTION`, set by
    whatever starts the run); a run of a connection waits for a slot (docs/limits.md). None:
    the run takes no slot (runs that must never wait, and tests of the interpreter alone)."""
    queue_limit: int = DEFAULT_QUEUE_LIMIT
    """Flow runs of the connection waiting for a slot; over it the run fails at once
    (`connection_queue_full`). `OSMO_CONNECTION_QUEUE_LIMIT`."""
    holds_slot: bool = False
    """The run holds its connection slot already (a continue-as-new of a run that took it)."""
    built_in_patches: list[str] = field(default_factory=list)
    """The patches this run's code takes for granted (core/patches.py; `BUILT_IN` for runs
    started now): asked of Temporal only when missing, as in runs recorded before."""
    slot_check_seconds: float = 300.0
    """A queued run asks again whether it got a slot after this long, then twice as long
    each time (docs/limits.md): the `slot` signal is the fast way, this the safety net."""
    launched_by: dict[str, Any] | None = None
    """What started the run: `{type: api|external-event|app-event|schedule, subscriptionId,
    eventId, appEventId, scheduleId}` (None: the API, or a run from before it was kept)."""


@dataclass
class NodeRun:
    """One execution of one node for one upstream output."""

    id: str
    node_key: str
    node_type: str
    input: Any
    outputs: list[Any] = field(default_factory=list)
    error: dict[str, Any] | None = None
    state: str = "running"  # running | completed | failed | cancelled
    attempts: int = 0
    started_at: str = ""
    finished_at: str | None = None
    duration_ms: float | None = None
    input_refs: dict[str, list[int]] | None = None
    """Where `input` comes from (see `Job.path`); `input` is left empty when this is set and
    the API fills it in, so the outputs of a node are kept once."""


@dataclass
class FlowRunResult:
    state: str  # completed | failed
    node_runs: list[NodeRun]
    error: dict[str, Any] | None = None
    failed_node_key: str | None = None


def lane_from(value: dict[str, Any]) -> Lane:
    """A `Lane` from its JSON form (as `asdict` wrote it into a failure's details)."""
    group = value.get("group")
    return Lane(
        [Job(j["node_key"], j.get("path") or {}, j.get("upstream")) for j in value["jobs"]],
        Group(group["limit"], [lane_from(lane) for lane in group["lanes"]]) if group else None,
    )


def lane_node_keys(lane: Lane) -> set[str]:
    """The nodes the lane's jobs run, in its groups too."""
    keys = {job.node_key for job in lane.jobs}
    for inner in lane.group.lanes if lane.group else []:
        keys |= lane_node_keys(inner)
    return keys


def node_run_inputs(
    node_runs: list[dict[str, Any]], start_outputs: dict[str, Any]
) -> list[dict[str, Any]]:
    """Node runs (as dicts) with `input` filled in from `input_refs`."""
    filled = []
    for run in node_runs:
        refs = run.get("input_refs")
        if refs is not None:
            run = {**run, "input": {key: output_at(node_runs, start_outputs, key, ref)
                                    for key, ref in refs.items()}}  # fmt: skip
        filled.append(run)
    return filled


def output_at(
    node_runs: list[dict[str, Any]], start_outputs: dict[str, Any], key: str, ref: list[int]
) -> Any:
    index, output = ref
    if index == SEED:
        return start_outputs.get(key)
    return node_runs[index]["outputs"][output]
