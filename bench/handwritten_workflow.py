"""The baselines of bench/flow_overhead.py: the same activity calls, written by hand.

`HandWritten` runs in Temporal's sandbox, as a workflow does by default; `HandWrittenUnsandboxed`
runs outside it, as `FlowRun` does, so the interpreter is also compared like for like.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.connectors import ApiRequestInput, ApiRequestOutput, ConnectorActivities

STEPS = 9
PATH = "/api/v2/users/me.json"


async def nine_requests(connection_id: str) -> list[ApiRequestOutput]:
    outputs = []
    for _ in range(STEPS):
        outputs.append(
            await workflow.execute_activity_method(
                ConnectorActivities.api_request,
                ApiRequestInput(connection_id, "GET", PATH),
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=RetryPolicy(maximum_attempts=5),
            )
        )
    return outputs


@workflow.defn(name="HandWritten")
class HandWritten:
    @workflow.run
    async def run(self, connection_id: str) -> list[ApiRequestOutput]:
        return await nine_requests(connection_id)


@workflow.defn(name="HandWrittenUnsandboxed", sandboxed=False)
class HandWrittenUnsandboxed:
    @workflow.run
    async def run(self, connection_id: str) -> list[ApiRequestOutput]:
        return await nine_requests(connection_id)
