"""The trigger output of a flow run its Temporal Schedule started: `{scheduledTime}`.

A schedule starts `FlowRun` with the same input every time (activities/schedules.py); when the
run was due is in the search attribute Temporal sets on every run a schedule starts,
`TemporalScheduledStartTime`. The interpreter (workflows/interpreter.py) turns it into the run's
input, and so does the API when it reads the run (api/flow_run_reader.py), so `input` and the
trigger's output agree and a re-run keeps the time of the run it re-runs.

Deterministic: the search attributes a workflow reads were recorded when it started.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC

from temporalio.common import SearchAttributeKey, TypedSearchAttributes

from workflows.flow_state import FlowRunInput

SCHEDULE_TRIGGER = "schedule-trigger"

SCHEDULED_START_TIME = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
"""Set by Temporal on each workflow a schedule starts: the time the action was due (before
jitter), also for a run started by `trigger` (then: when it was triggered)."""


def with_scheduled_time(run_input: FlowRunInput, attributes: TypedSearchAttributes) -> FlowRunInput:
    """`run_input` with `input` = `{scheduledTime}` (ISO 8601, UTC) when a schedule started the
    run and its input is still empty; otherwise `run_input` itself."""
    if run_input.trigger_type != SCHEDULE_TRIGGER or run_input.input is not None:
        return run_input
    due = attributes.get(SCHEDULED_START_TIME)
    if due is None:  # started by hand (or the API) with a schedule trigger: nothing to say
        return run_input
    return replace(run_input, input={"scheduledTime": due.astimezone(UTC).isoformat()})
