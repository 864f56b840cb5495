"""The baseline of bench/flow_overhead.py: the same activity calls, written by hand."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.connectors import ApiRequestInput, ApiRequestOutput

STEPS = 9
PATH = "/api/v2/users/me.json"


@workflow.defn(name="HandWritten")
class HandWritten:
    @workflow.run
    async def run(self, connection_id: str) -> list[ApiRequestOutput]:
        outputs = []
        for _ in range(STEPS):
            outputs.append(
                await workflow.execute_activity(
                    "api_request",
                    ApiRequestInput(connection_id, "GET", PATH),
                    result_type=ApiRequestOutput,
                    start_to_close_timeout=timedelta(minutes=2),
                    retry_policy=RetryPolicy(maximum_attempts=5),
                )
            )
        return outputs
