"""Osmo's custom search attributes: registered on the dev server by `make run`."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
INTEGRATION_KEY = SearchAttributeKey.for_keyword("IntegrationKey")
CONNECTION_ID = SearchAttributeKey.for_keyword("ConnectionId")
FLOW_KEY = SearchAttributeKey.for_keyword("FlowKey")
FLOW_INSTANCE_ID = SearchAttributeKey.for_keyword("FlowInstanceId")
TRIGGER_TYPE = SearchAttributeKey.for_keyword("TriggerType")

ALL = (CUSTOMER_ID, INTEGRATION_KEY, CONNECTION_ID, FLOW_KEY, FLOW_INSTANCE_ID, TRIGGER_TYPE)


def dev_server_args() -> list[str]:
    """`--search-attribute Name=Keyword` flags for `temporal server start-dev`."""
    args: list[str] = []
    for key in ALL:
        args += ["--search-attribute", f"{key.name}=Keyword"]
    return args
