"""Osmo's JSON payload converter writes Temporal's JSON and reads it back the same, only faster."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.converter import DefaultPayloadConverter

from core.blobs import data_converter
from core.payload_json import OsmoPayloadConverter
from tests.conftest import make_settings
from workflows.flow_state import FlowRunInput, FlowSnapshot, Group, Job, Lane, NodeRun


def record(n: int) -> dict[str, Any]:
    return {"id": str(n), "fields": {"email": f"p{n}@example.com", "n": n}, "name": None}


def node_runs(count: int) -> list[NodeRun]:
    return [
        NodeRun(
            id=f"mark:{i}",
            node_key="mark",
            node_type="update-data-record",
            input=None,
            outputs=[{"record": record(i)}],
            input_refs={"trigger": [0, 0], "each": [1, i]},
            state="completed",
            attempts=1,
            started_at="2026-01-01T00:00:00+00:00",
            finished_at="2026-01-01T00:00:01+00:00",
            duration_ms=12.5 if i % 2 else None,
            error={"type": "x", "key": "y", "message": "z", "data": {}} if i == 3 else None,
        )
        for i in range(count)
    ]


def run_input(count: int) -> FlowRunInput:
    nodes = {"t": {"type": "api-trigger", "links": [{"key": "contacts"}]}}
    resume = Lane(
        [Job("contacts", {"t": [0, 0]}, "t", carried={"cursor": "c2", "seen": 200})],
        Group(3, [Lane([Job("mark", {"each": [1, 4]}, "each")])]),
    )
    return FlowRunInput(
        FlowSnapshot("sync", "fi-1", nodes, connection_id="c-1"),
        {"a": [1, 2.5, None, True]},
        resume=resume,
        node_runs=node_runs(count),
        continued=2,
    )


def test_it_writes_the_json_temporal_writes_and_reads_the_same_values() -> None:
    value = run_input(50)
    ours, default = OsmoPayloadConverter(), DefaultPayloadConverter()
    [payload] = ours.to_payloads([value])
    assert payload == default.to_payloads([value])[0]  # histories stay interchangeable
    assert ours.from_payloads([payload], [FlowRunInput]) == [value]
    assert default.from_payloads([payload], [FlowRunInput]) == [value]


def test_it_decodes_what_temporal_decodes_and_refuses_what_it_refuses() -> None:
    ours, default = OsmoPayloadConverter(), DefaultPayloadConverter()
    # Fields missing from older payloads take their defaults; unknown ones are ignored.
    [old] = default.to_payloads([{"node_key": "n", "path": {"a": [0, 1]}, "extra": 1}])
    assert ours.from_payloads([old], [Job]) == [Job("n", {"a": [0, 1]})]
    [bad] = default.to_payloads([{"node_key": 7}])
    with pytest.raises(TypeError):
        default.from_payloads([bad], [Job])
    with pytest.raises(TypeError):
        ours.from_payloads([bad], [Job])


def test_osmos_data_converter_uses_it(tmp_path) -> None:
    converter = data_converter(make_settings("sqlite://", blob_store=str(tmp_path)))
    assert converter.payload_converter_class is OsmoPayloadConverter
