"""The flow interpreter behind the `FlowRun` workflow (workflows/flow_run.py).

It runs inside the workflow, so it must be deterministic, but it is imported passed through
the sandbox: the sandbox re-imports a workflow's own module for every run it starts, and
keeping that module small keeps starting runs cheap.

The graph is walked depth first from the start node. A node runs once per upstream output;
each of its outputs follows every outgoing link whose filter matches. A node's `concurrency`
(for-each's items, say) runs the sub-graphs of its outputs that many at a time; by default
they run one after another. A node may ask to run again for the same upstream output (a
whole-collection list, for its next page): that run is pending work below the sub-graphs of its
outputs, so they finish first. Pure nodes evaluate in workflow code; nodes with I/O run
activities. Node runs are kept in workflow state (queryable while running) and returned in
the result.

Long runs continue as new before the history grows large: pending work stops being started,
work in flight finishes, and the new run picks up the pending work, the node runs and the
events not yet taken. Outputs are referenced by position rather than copied (see `Job`).

When a node fails and must stop the run, the lanes still running are cancelled and the run
fails with the work it had not finished (`pending`, a `Lane` shaped like continue-as-new's
`resume`: the failed job, the rest of its lane, the lanes cancelled or not started), so a rerun
from the failed node can finish all of it (api/routes/flow_runs.py).

Runs started before the depth-first walk replay the breadth-first walk they were recorded
with (workflows/breadth_first.py).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable
from dataclasses import asdict, replace
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError, is_cancelled_exception

from workflows.breadth_first import run_breadth_first
from workflows.nodes import NODE_TYPES, NodeContext
from workflows.nodes.errors import as_node_error
from workflows.patching import patched

# Passed through when this module is loaded inside the sandbox (the replay suite's check).
with workflow.unsafe.imports_passed_through():
    from core import patches
    from core.elements.flows import MAX_CONCURRENCY
    from core.formulas import matches_filter
    from workflows.flow_state import (
        SEED,
        FlowRunInput,
        FlowRunResult,
        Group,
        Job,
        Lane,
        NodeRun,
    )
    from workflows.schedule_input import with_scheduled_time

DEPTH_FIRST_PATCH = patches.DEPTH_FIRST
CANCELLED_ACTIVITY_PATCH = patches.CANCELLED_ACTIVITY


def start_node(input: FlowRunInput) -> str:
    if input.start_node_key:
        return input.start_node_key
    targets = {
        link["key"] for node in input.snapshot.nodes.values() for link in node.get("links", [])
    }
    roots = [key for key in input.snapshot.nodes if key not in targets]
    if len(roots) != 1:
        raise ApplicationError(
            f"cannot tell the start node among {roots}", type="invalid_flow", non_retryable=True
        )
    return roots[0]


def _error(exc: BaseException) -> dict[str, Any]:
    """A node run's `error`: `{type, key, message, data}` from what the node raised."""
    error = as_node_error(exc)
    details = error.details[0] if error.details else {}
    return {
        "type": error.type or "error",
        "key": (details or {}).get("key", error.type or "error")
        if isinstance(details, dict)
        else error.type,
        "message": error.message,
        "data": details if isinstance(details, dict) else {},
    }


def concurrency(node: dict[str, Any]) -> int:
    return max(1, min(int(node.get("concurrency") or 1), MAX_CONCURRENCY))


class NodeFailed(Exception):
    """A node failed and its `onError` is `stop`."""

    def __init__(self, key: str, node_run: NodeRun) -> None:
        super().__init__(key)
        self.key, self.node_run = key, node_run
        self.pending: Lane | None = None
        """The work the run had not finished (set by the depth-first walk)."""


async def all_or_nothing(tasks: list[asyncio.Task[None]]) -> None:
    """Awaits every task; on the first failure cancels the others and raises it."""
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class Interpreter:
    """One flow run's walk: its node runs, the events it was sent, the work left."""

    def __init__(self) -> None:
        self.node_runs: list[NodeRun] = []
        self.events: list[Any] = []
        self.draining = False
        self.history_limit = 0
        self.again: dict[str, Any] = {}
        """What node runs that just completed asked to run again with, by node run id."""

    async def run(self, input: FlowRunInput) -> FlowRunResult:
        input = with_scheduled_time(input, workflow.info().typed_search_attributes)
        self.input, self.seed = input, dict(input.start_outputs)
        self.base = {
            "flowInstance": {
                "id": input.snapshot.flow_instance_id,
                "parameters": input.snapshot.parameters,
            },
            "connection": {"id": input.snapshot.connection_id},
            "customer": {"id": input.snapshot.customer_id, "tenantKey": input.snapshot.tenant_key},
            "integration": {"key": input.snapshot.integration_key},
            "flowRun": {"id": workflow.info().workflow_id},
        }
        try:
            if not patched(DEPTH_FIRST_PATCH):
                return await run_breadth_first(self, input, start_node(input))
            return await self._run_depth_first(input)
        except NodeFailed as failed:
            raise self._failure(failed.key, failed.node_run, failed.pending) from failed.__cause__

    # -- depth first, with lanes ---------------------------------------------------------

    async def _run_depth_first(self, input: FlowRunInput) -> FlowRunResult:
        self.node_runs.extend(input.node_runs)
        self.events.extend(input.events)
        self.history_limit = input.history_limit
        root = input.resume
        if root is None:
            path = {key: [SEED, 0] for key in self.seed}
            upstream = list(self.seed)[-1] if self.seed else None  # the last one given
            root = Lane([Job(start_node(input), path, upstream)])
        try:
            rest = await self._run_lane(root)
        except NodeFailed as failed:
            # Lanes are updated in place as they stop (see `_run_lane`, `_run_group`), so the
            # root now holds exactly the work left: what a rerun from the failed node resumes.
            failed.pending = root
            raise
        if rest is not None:
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(
                replace(
                    input,
                    resume=rest,
                    node_runs=self.node_runs,
                    events=self.events,
                    continued=input.continued + 1,
                )
            )
        return FlowRunResult("completed", self.node_runs)

    def _must_continue_as_new(self) -> bool:
        if not self.draining:
            info = workflow.info()
            self.draining = (
                info.is_continue_as_new_suggested()
                or info.get_current_history_length() >= self.history_limit
            )
        return self.draining

    def _value(self, key: str, ref: list[int]) -> Any:
        index, output = ref
        return self.seed.get(key) if index == SEED else self.node_runs[index].outputs[output]

    async def _run_lane(self, lane: Lane) -> Lane | None:
        """Runs a lane to its end; returns what is left of it when the run must continue as new."""
        while True:
            if lane.group is not None:
                lane.group = await self._run_group(lane.group)
                if lane.group is not None:
                    return lane
            if not lane.jobs:
                return None
            if self._must_continue_as_new():
                return lane
            job = lane.jobs.pop()
            node = self.input.snapshot.nodes[job.node_key]
            index = len(self.node_runs)  # the job's node run is appended before any await
            try:
                outputs, again = await self._run_job(job, node)
            except BaseException:  # failed, or cancelled by a failure elsewhere: not done
                lane.jobs.append(job)
                raise
            if again is not None:
                # Under this run's sub-graphs: they finish before the node runs again (a
                # page's records are processed before the next page is fetched).
                lane.jobs.append(replace(job, carried=again))
            branches: list[list[Job]] = []
            for position in range(len(outputs)):
                ref = [index, position]
                path = {**job.path, job.node_key: ref}
                branch = [
                    Job(link["key"], path, job.node_key)
                    for link in node.get("links", [])
                    if link.get("filter") is None
                    or matches_filter(link["filter"], {**self.base, "input": self._inputs(path)})
                ]
                if branch:
                    branches.append(branch)
            limit = concurrency(node)
            if limit > 1 and len(branches) > 1:
                lane.group = Group(limit, [Lane(list(reversed(b))) for b in branches])
            else:
                for branch in reversed(branches):
                    lane.jobs.extend(reversed(branch))

    async def _run_group(self, group: Group) -> Group | None:
        """Runs the group's lanes, `limit` at a time; returns those left to continue as new."""
        waiting = deque(group.lanes)
        left: list[Lane] = []
        running: dict[int, Lane] = {}  # by start order; lanes compare by value, not identity
        failed: list[Lane] = []
        started = 0

        async def worker() -> None:
            nonlocal started
            while waiting and not self._must_continue_as_new():
                number, lane = started, waiting.popleft()
                started, running[number] = started + 1, lane
                try:
                    rest = await self._run_lane(lane)
                except NodeFailed:
                    failed.append(running.pop(number))
                    raise
                del running[number]
                if rest is not None:
                    left.append(rest)

        workers = [asyncio.create_task(worker()) for _ in range(min(group.limit, len(waiting)))]
        try:
            await all_or_nothing(workers)
        except BaseException:
            # The lanes stopped midway (the failed one, first, and those cancelled) hold what
            # they had left; with the lanes never started, that is this group's unfinished work.
            group.lanes = [*failed, *left, *running.values(), *waiting]
            raise
        left.extend(waiting)
        return Group(group.limit, left) if left else None

    def _inputs(self, path: dict[str, list[int]]) -> dict[str, Any]:
        return {key: self._value(key, ref) for key, ref in path.items()}

    async def _run_job(self, job: Job, node: dict[str, Any]) -> tuple[list[Any], Any]:
        """Runs the job's node; returns its outputs and what it asked to run again with."""
        node_run = NodeRun(
            id=f"{job.node_key}:{len(self.node_runs)}",
            node_key=job.node_key,
            node_type=node["type"],
            input=None,
            input_refs=job.path,
            started_at=workflow.now().isoformat(),
        )
        upstream = (
            self.input.input
            if job.upstream is None
            else self._value(job.upstream, job.path[job.upstream])
        )
        outputs = await self.execute(
            node_run,
            node,
            self._inputs(job.path),
            upstream,
            name_activities=True,
            carried=job.carried,
        )
        return outputs, self.again.pop(node_run.id, None)

    async def execute(
        self,
        node_run: NodeRun,
        node: dict[str, Any],
        inputs: dict[str, Any],
        upstream: Any,
        *,
        name_activities: bool = False,
        carried: Any = None,
    ) -> list[Any]:
        """Runs one node, recording it; raises `NodeFailed` when it fails and must stop.

        `name_activities` gives its activities ids after the node run (`<id>/<n>`), which
        breadth-first runs, recorded before, did not. `carried` is what the node's previous
        run for the same input asked to run again with; what this run asks is left in
        `self.again` under the node run's id.
        """
        self.node_runs.append(node_run)
        ctx = NodeContext(
            node_key=node_run.node_key,
            node=node,
            variables={**self.base, "input": inputs},
            connection_id=self.input.snapshot.connection_id,
            run_id=workflow.info().workflow_id,
            events=self.events,
            trigger_input=self.input.input,
            upstream_output=upstream,
            item_index=len(self.node_runs),
            node_run_id=node_run.id if name_activities else None,
            carried=carried,
        )
        started = workflow.time()
        run: Awaitable[list[Any]] = NODE_TYPES[node["type"]].run(ctx)
        try:
            outputs = await run
        except asyncio.CancelledError:
            node_run.state = "cancelled"
            node_run.finished_at = workflow.now().isoformat()
            raise
        except Exception as exc:  # recorded on the node run, then onError decides
            if is_cancelled_exception(exc) and patched(CANCELLED_ACTIVITY_PATCH):
                # Its activity was cancelled (a failure elsewhere, or a stop): cancelled like
                # a timer, so `onError: continue` never carries on past it and a rerun from
                # the failed node runs it again.
                node_run.state = "cancelled"
                node_run.finished_at = workflow.now().isoformat()
                raise asyncio.CancelledError() from exc
            node_run.state, node_run.error = "failed", _error(exc)
            node_run.finished_at = workflow.now().isoformat()
            node_run.duration_ms = round((workflow.time() - started) * 1000, 3)
            if node.get("onError", "stop") == "continue":
                return []
            raise NodeFailed(node_run.node_key, node_run) from exc
        node_run.state, node_run.outputs = "completed", outputs
        if ctx.again is not None:
            self.again[node_run.id] = ctx.again
        node_run.finished_at = workflow.now().isoformat()
        node_run.duration_ms = round((workflow.time() - started) * 1000, 3)
        return outputs

    def _failure(self, key: str, node_run: NodeRun, pending: Lane | None) -> ApplicationError:
        """Fails the workflow itself so Temporal (UI, visibility) shows the run failed; the
        node runs travel in the failure's details, and so does the work left (`pending`, by
        reference to the node runs like continue-as-new's `resume`) for a rerun to finish."""
        assert node_run.error is not None
        details: dict[str, Any] = {
            "failedNodeKey": key,
            "nodeRuns": [asdict(run) for run in self.node_runs],
        }
        if pending is not None:
            details["pending"] = asdict(pending)
        return ApplicationError(
            f"node {key!r} failed: {node_run.error['message']}",
            details,
            type="flow_failed",
            non_retryable=True,
        )
