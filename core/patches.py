"""The workflow patches (`workflow.patched`) of `FlowRun` and `ActionRun`, by name.

A patch guards a change of workflow code so that runs recorded before it replay as they ran.
Asking `workflow.patched` costs every new run a marker in its history and, through the SDK, an
upsert of the `TemporalChangeVersion` search attribute — one more visibility write per patch
per run, a measurable part of Temporal's work for a short run (issue 12). So a run started now
carries the patches its code takes for granted in its input (`built_in_patches`, set by whatever
starts it: `BUILT_IN`), and `workflows/patching.patched` answers True for those without asking
Temporal. A run recorded before that field existed has none in its input and asks as before,
so its recorded markers replay unchanged.

Plain names here (no workflow code): activities write the input of scheduled runs too.
"""

from __future__ import annotations

DEPTH_FIRST = "depth-first-lanes"
"""Runs recorded before it walked the graph breadth first, one node at a time."""

CANCELLED_ACTIVITY = "cancelled-activity-cancels-node-run"
"""Runs recorded before it failed a node run whose activity was cancelled (and went on past
it with `onError: continue`)."""

LOCAL_ACTIVITIES = "local-activities"
"""Runs recorded before short steps ran as local activities scheduled regular ones."""

CONNECTION_RUN_LIMIT = "connection-run-limit"
"""Runs recorded before a run of a connection took a slot of the connection's limit."""

BUILT_IN: tuple[str, ...] = (
    DEPTH_FIRST,
    CANCELLED_ACTIVITY,
    LOCAL_ACTIVITIES,
    CONNECTION_RUN_LIMIT,
)
"""Every patch above: what a run started by this code takes for granted."""
