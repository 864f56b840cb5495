"""The README table of built-in connectors.

`python -m connectors.catalog --write` regenerates the table between the
`<!-- connectors:start -->` and `<!-- connectors:end -->` markers; `--check` exits 1 with a
diff when the table is stale.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Iterable
from pathlib import Path

from connectors.registry import ConnectorRegistry
from connectors.spec import ConnectorSpec, WebhookEvents

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- connectors:start -->", "<!-- connectors:end -->"
METHOD_LETTERS = {
    "list": "L",
    "find_by_id": "F",
    "match": "M",
    "search": "S",
    "create": "C",
    "update": "U",
    "delete": "D",
}


def _event_kind(spec: ConnectorSpec, source: object) -> str:
    if not isinstance(source, WebhookEvents):
        return "polling"
    if spec.webhooks is None:
        return "webhook without ingress"
    if source.subscribe is not None:
        return "webhook"
    return "app webhook" if spec.webhooks.scope == "app" else "webhook set up by hand"


def _events(spec: ConnectorSpec) -> str:
    """How many event types (created, updated, deleted of a collection) arrive each way."""
    kinds: dict[str, int] = {}
    for collection in spec.data_collections:
        for _, source in collection.events:
            if source is not None:
                kind = _event_kind(spec, source)
                kinds[kind] = kinds.get(kind, 0) + 1
    order = ["webhook", "app webhook", "webhook set up by hand", "webhook without ingress"]
    order.append("polling")
    return ", ".join(f"{kinds[kind]} {kind}" for kind in order if kind in kinds) or "—"


def _auth_cell(spec: ConnectorSpec) -> str:
    types = [option.type for option in spec.auth]
    counted = {kind: types.count(kind) for kind in types}
    return ", ".join(kind if n == 1 else f"{kind} x{n}" for kind, n in counted.items())


def _collections_cell(spec: ConnectorSpec) -> str:
    return (
        ", ".join(
            f"{c.key} ({''.join(METHOD_LETTERS[m] for m in c.supported_methods())})"
            for c in spec.data_collections
        )
        or "—"
    )


def connectors_table(specs: Iterable[ConnectorSpec]) -> str:
    """The Markdown table of connectors (one row per connector, sorted by key)."""
    rows = [
        "| Connector | Auth options | Operations | Data collections | Events | Unified models |",
        "|---|---|---|---|---|---|",
    ]
    for spec in sorted(specs, key=lambda s: s.key):
        name = f"[{spec.name}]({spec.docs_url})" if spec.docs_url else spec.name
        models = sorted({c.udm.model for c in spec.data_collections if c.udm})
        cells = [
            f"{name} `{spec.key}`",
            _auth_cell(spec),
            str(len(spec.operations)),
            _collections_cell(spec),
            _events(spec),
            ", ".join(models) or "—",
        ]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    legend = ", ".join(f"{letter} {name}" for name, letter in METHOD_LETTERS.items())
    return "\n".join(
        [
            *rows,
            "",
            f"Methods: {legend}. Events: how many event types (created, updated, deleted of a "
            "collection) reach flows each way: `webhook`, registered with the app by Osmo "
            "when a flow needs it; `app webhook`, one webhook for the whole app (set its URL, "
            "`/webhooks/integrations/{key}`, in the app's developer settings once) routed to "
            "connections; `webhook set up by hand`, per connection, the app has no API to "
            "register it (the subscription's `webhookUrl` says where); `polling`, pulled on a "
            "durable timer. See [docs/events.md](docs/events.md).",
        ]
    )


def with_table(readme: str, table: str) -> str:
    """`readme` with `table` between the connectors markers."""
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README has no {START} ... {END} section")
    return f"{readme[: start + len(START)]}\n{table}\n{readme[end:]}"


def readme_diff(readme: Path = README, specs: Iterable[ConnectorSpec] | None = None) -> str:
    """A unified diff from the README to what it should say; empty when it is current."""
    current = readme.read_text()
    specs = ConnectorRegistry().all() if specs is None else specs
    wanted = with_table(current, connectors_table(specs))
    lines = difflib.unified_diff(
        current.splitlines(keepends=True),
        wanted.splitlines(keepends=True),
        f"{readme.name} (current)",
        f"{readme.name} (generated)",
    )
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The README table of built-in connectors.")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="regenerate the README table")
    action.add_argument("--check", action="store_true", help="exit 1 if the table is stale")
    args = parser.parse_args(argv)
    if args.write:
        current = README.read_text()
        README.write_text(with_table(current, connectors_table(ConnectorRegistry().all())))
        return 0
    diff = readme_diff()
    if diff:
        print(f"The connectors table in README.md is stale; run `make connectors-table`.\n{diff}")
        return 1
    return 0
