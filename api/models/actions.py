"""Action-run bodies."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.models import ApiModel, PublicModel


class ActionRunBody(ApiModel):
    input: Any = None
    instance_key: str | None = None


class ActionRunResult(PublicModel):
    """The action's output (after its output mapping) and the id of its `ActionRun`."""

    output: Any = None
    action_run_id: str = Field(description="Workflow id of the run, findable in Temporal.")
