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
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, TimeoutError

with workflow.unsafe.imports_passed_through():
    from core.errors import OsmoError

NodeErrorKey = Literal[
    "connection_required",
    "customer_required",
    "data_link_record_missing",
    "items_not_a_list",
    "timeout",
    "action_not_resolved",
    "activity_timeout",
    "activity_cancelled",
    "internal_error",
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
    "activity_timeout": NodeErrorInfo(
        "timeout", 504, "An activity of the node ran out of time on its last attempt."
    ),
    "activity_cancelled": NodeErrorInfo(
        "conflict", 409, "An activity of the node was cancelled before it finished."
    ),
    "internal_error": NodeErrorInfo(
        "internal", 500, "A bug: the node raised an unexpected exception (`data.exception`)."
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


def as_node_error(exc: BaseException) -> ApplicationError:
    """What a node raised, as a failure with a key, however it failed.

    An activity's failure arrives wrapped in an `ActivityError` whose cause carries the key;
    an `OsmoError` raised in workflow code (a formula that cannot be evaluated) keeps its own.
    """
    cause = exc.cause if isinstance(exc, ActivityError) and exc.cause else exc
    if isinstance(cause, ApplicationError):
        return cause
    if isinstance(cause, OsmoError):
        return failure(cause)
    if isinstance(cause, TimeoutError):
        kind = cause.type.name if cause.type is not None else None
        return node_error("activity_timeout", str(cause), {"timeoutType": kind})
    if isinstance(cause, CancelledError):
        return node_error("activity_cancelled", str(cause) or "cancelled")
    name = type(cause).__name__
    return node_error("internal_error", f"{name}: {cause}", {"exception": name})


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
