"""The recorded FlowRun histories (tests/workflows/histories), read for replay."""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.client import WorkflowHistory

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"replay-{path.stem}", json.loads(path.read_text()))
