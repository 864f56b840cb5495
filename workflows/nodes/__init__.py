"""Node types by the kebab-case name users see.

One implementation per type declared in core/elements/node_schemas.py, where flow and action
definitions are validated (tests/workflows/test_nodes.py keeps the two in step).
"""

from __future__ import annotations

from workflows.nodes.api_request_to_external_app import ApiRequestToExternalApp
from workflows.nodes.api_request_to_your_app import ApiRequestToYourApp
from workflows.nodes.base import NodeContext, NodeType
from workflows.nodes.custom_http_request import CustomHttpRequest
from workflows.nodes.data_links import DATA_LINK_NODES
from workflows.nodes.data_records import DATA_RECORD_NODES
from workflows.nodes.delay import Delay
from workflows.nodes.filter import Filter
from workflows.nodes.for_each import ForEach
from workflows.nodes.run_action import RunAction
from workflows.nodes.run_operation import RunOperation
from workflows.nodes.transform_data import TransformData
from workflows.nodes.triggers import trigger_types
from workflows.nodes.wait_for_event import WaitForEvent

_CLASSES: list[type[NodeType]] = [
    *trigger_types(),
    TransformData,
    Filter,
    ForEach,
    Delay,
    WaitForEvent,
    ApiRequestToExternalApp,
    ApiRequestToYourApp,
    CustomHttpRequest,
    *DATA_RECORD_NODES,
    *DATA_LINK_NODES,
    RunOperation,
    RunAction,
]
NODE_TYPES: dict[str, NodeType] = {cls.type: cls() for cls in _CLASSES}

__all__ = ["NODE_TYPES", "NodeContext", "NodeType"]
