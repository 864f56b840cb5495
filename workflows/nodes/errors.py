"""How a node fails in workflow code: an `ApplicationError` with a key the user can act on.

A node that raised a plain exception would surface as `"key": "ValueError"`; `node_error`
gives every failure decided in workflow code the shape activities give theirs
(activities/connectors.py `to_application_error`): the key as the error's type, and
`{type, key, message, data, status}` as its details, which the flow run's node runs and the
action run API read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.errors import OsmoError

NodeErrorKey = Literal[
    "connection_required",
    "customer_required",
    "data_link_record_missing",
    "items_not_a_list",
    "timeout",
    "action_not_resolved",
]


@dataclass(frozen=True)
class NodeErrorInfo:
    """The family (`OsmoError.type`), HTTP status and meaning of a node error key."""

    type: str
    status: int
    meaning: str


NODE_ERRORS: dict[str, NodeErrorInfo] = {
    "connection_required": NodeErrorInfo(
        "bad_request", 400, "The node calls an external app, and the run has no connection."
    ),
    "customer_required": NodeErrorInfo(
        "bad_request", 400, "The node calls the product's API, and the run has no customer."
    ),
    "data_link_record_missing": NodeErrorInfo(
        "bad_request", 400, "A configured record id of a data link node evaluated to nothing."
    ),
    "items_not_a_list": NodeErrorInfo(
        "bad_request", 400, "`for-each` items evaluated to something other than a list."
    ),
    "timeout": NodeErrorInfo(
        "timeout", 504, "`wait-for-event` saw no matching event within its `timeoutSeconds`."
    ),
    "action_not_resolved": NodeErrorInfo(
        "bad_request", 400, "`run-action` ran without the action resolved for a connection."
    ),
}
"""Every key `node_error` raises (the `NodeErrorKey` values), with what it means."""


def failure(error: OsmoError) -> ApplicationError:
    """An error raised in workflow code as a failure of the run, not a retried workflow task.

    The details keep the error's HTTP status for the API to answer with.
    """
    return ApplicationError(
        error.message,
        {**error.to_dict(), "status": error.status},
        type=error.key,
        non_retryable=True,
    )


def node_error(
    key: NodeErrorKey, message: str, data: dict[str, Any] | None = None
) -> ApplicationError:
    """A node's failure, to raise from its `run`.

    Args:
        key: What went wrong (one of `NODE_ERRORS`).
        message: What went wrong, in words (never a secret).
        data: Details the user can act on (the field at fault, a timeout...).
    """
    info = NODE_ERRORS[key]
    return failure(OsmoError(info.type, key, message, data, status=info.status))
