"""`ApiRequest`: one durable request to an external app, retried per the normalized error."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.connectors import ApiRequestInput, ApiRequestOutput, ConnectorActivities

RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=6,
)


@workflow.defn(name="ApiRequest")
class ApiRequestWorkflow:
    @workflow.run
    async def run(self, input: ApiRequestInput) -> ApiRequestOutput:
        return await workflow.execute_activity_method(
            ConnectorActivities.api_request,
            input,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RETRY,
            summary=f"{input.method} {input.path}",
        )
