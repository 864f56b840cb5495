"""Osmo's JSON payload converter against Temporal's default: `python bench/payload_converter.py`.

A flow run carries its node runs through continue-as-new, its result and its `state` query; over a
whole collection (thousands of node runs) Temporal's default converter took seconds in the
workflow thread, past the two-second deadlock detector (core/payload_json.py). This encodes and
decodes one `FlowRunInput` of N node runs with each converter (the same JSON) and prints the
times and the ratio; the last line is JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.converter import DefaultPayloadConverter, PayloadConverter

from core.payload_json import OsmoPayloadConverter
from workflows.flow_state import FlowRunInput, FlowSnapshot, NodeRun

NODE_RUNS = 5000
ROUNDS = 5


def run_input(count: int) -> FlowRunInput:
    """A run that walked `count` records: each a node run referencing its page."""
    runs = [
        NodeRun(
            id=f"mark:{i}",
            node_key="mark",
            node_type="update-data-record",
            input=None,
            outputs=[{"record": {"id": str(i), "fields": {"email": f"p{i}@example.com"}}}],
            input_refs={"trigger": [0, 0], "each": [1, i]},
            state="completed",
            attempts=1,
            started_at="2026-01-01T00:00:00+00:00",
            finished_at="2026-01-01T00:00:01+00:00",
            duration_ms=12.5,
        )
        for i in range(count)
    ]
    nodes = {"t": {"type": "api-trigger", "links": [{"key": "contacts"}]}}
    return FlowRunInput(FlowSnapshot("sync", "fi-1", nodes, connection_id="c-1"), node_runs=runs)


def seconds(converter: PayloadConverter, value: Any) -> float:
    """The median over `ROUNDS` of one encode and one decode."""
    times = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        [payload] = converter.to_payloads([value])
        converter.from_payloads([payload], [FlowRunInput])
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    value = run_input(NODE_RUNS)
    ours = seconds(OsmoPayloadConverter(), value)
    default = seconds(DefaultPayloadConverter(), value)
    print(f"{NODE_RUNS} node runs, encode + decode: Osmo {ours * 1000:.0f} ms, "
          f"Temporal's default {default * 1000:.0f} ms")  # fmt: skip
    figures = {
        "node_runs": NODE_RUNS,
        "osmo_ms": round(ours * 1000, 1),
        "default_ms": round(default * 1000, 1),
        "speedup": round(default / ours, 2),
        "loadavg": os.getloadavg()[0],
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
