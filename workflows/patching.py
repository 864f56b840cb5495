"""`patched`: `workflow.patched`, for runs that may carry their patches built in
(core/patches.py)."""

from __future__ import annotations

from temporalio import workflow


def patched(patch_id: str) -> bool:
    """True when the run's input lists `patch_id` as built in (no marker, no search attribute
    upsert); otherwise `workflow.patched(patch_id)`, as recorded runs expect."""
    built_in: frozenset[str] = getattr(workflow.instance(), "built_in_patches", frozenset())
    return patch_id in built_in or workflow.patched(patch_id)
