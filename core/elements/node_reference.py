"""docs/nodes.md, the reference of every flow node type, generated so it cannot go stale.

Types, required fields and accepted values come from the node config schemas
(core/elements/node_schemas.py), the words from core/elements/node_docs.py. `python -m
core.elements.node_reference --write` (or `make nodes-doc`) rewrites the file, `--check` exits 1
when the checked-in copy differs (a test runs the same check in CI).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from core.elements.node_docs import ACTION_VARIABLES, NODE_DOCS, VARIABLES, FieldDoc, NodeDoc
from core.elements.node_schemas import NODE_SCHEMAS
from core.settings import ROOT

DOC_PATH = ROOT / "docs" / "nodes.md"
EXAMPLE_TRIGGER = "start"
EXAMPLE_NODE = "step"

_VALUE_WORDS = {
    "formula": "formula",
    "literal": "as written",
    "conditions": "conditions",
    "set-by-osmo": "set by Osmo",
}

HEADER = """# Flow nodes

<!-- Generated from core/elements/node_schemas.py and core/elements/node_docs.py by
`make nodes-doc`; a test fails when this file is stale. Edit those files, not this one. -->

A flow's `nodes` maps node keys to nodes: `{type, config, links, onError, concurrency, retry,
timeoutSeconds}`. This page lists every node `type`: its `config` fields, what it outputs, and
a minimal example. How a run walks the graph, and the settings every node has, are in
[README.md](../README.md#flows).

## Config values

A field's **Value** column says how the node reads it:

- **formula**: evaluated over the node's variables when the node runs. A constant is a
  formula too; objects and lists are built recursively, so formulas may sit anywhere inside
  (`{"email": {"$var": "input.start.email"}}`). See [formulas.md](formulas.md).
- **as written**: read as it is, never evaluated (keys, methods, numbers the schema fixes).
- **conditions**: a filter such as `{"field": "input.start.email", "operator": "is_not_empty"}`
  (or `$and` / `$or` lists of them), tested over the node's variables.
- **set by Osmo**: filled in when a run starts; do not write it.

## Failures

A node that fails records `{type, key, message, data}` on its node run; `onError: continue` goes
on without its output, `stop` (the default) fails the run. Any node may fail with
`activity_timeout` or `activity_cancelled` (its activity ran out of time or was cancelled), a
formula's error, or `internal_error` (a bug); nodes that call an app fail with the connector's
normalized keys. Each section lists the keys the node adds. All keys are in
[errors.md](errors.md).

## Variables

What formulas and conditions in a node's config see in a flow run:

"""


def _code(value: Any) -> str:
    return f"`{value}`"


def type_text(schema: dict[str, Any]) -> str:
    """A property's JSON schema in words (`string`, `number ≥ 0`, `GET` | `POST`...)."""
    if "enum" in schema:
        return " \\| ".join(_code(v) for v in schema["enum"])
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return " or ".join(type_text(s) for s in alternatives)
    kind = schema.get("type")
    if kind is None:
        return "any"
    text = " or ".join(kind) if isinstance(kind, list) else str(kind)
    bounds = [
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
    ]
    text += "".join(f" {sign} {schema[k]}" for k, sign in bounds if k in schema)
    if schema.get("minLength") == 1:
        text = f"non-empty {text}"
    return text


def accepts_object(schema: dict[str, Any]) -> bool:
    """Whether the schema lets a formula (a JSON object) through."""
    if "enum" in schema:
        return False
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return any(accepts_object(s) for s in alternatives)
    kind = schema.get("type")
    if kind is None:
        return True
    return "object" in (kind if isinstance(kind, list) else [kind])


def value_text(doc: FieldDoc, schema: dict[str, Any]) -> str:
    if doc.value == "formula" and not accepts_object(schema):
        return "as written"
    return _VALUE_WORDS[doc.value]


def required_text(name: str, config: dict[str, Any]) -> str:
    if name in config.get("required", []):
        return "yes"
    choices = [s["required"] for s in config.get("anyOf", []) if "required" in s]
    names = [n for choice in choices for n in choice]
    if name in names:
        return "one of " + ", ".join(_code(n) for n in names)
    return ""


def undescribed() -> list[str]:
    """Node types and config fields the schemas declare and node_docs.py does not describe,
    and descriptions of things the schemas do not declare."""
    problems = [f"node type {t!r} has no NodeDoc" for t in NODE_SCHEMAS if t not in NODE_DOCS]
    problems += [
        f"{t!r} is described but is no node type" for t in NODE_DOCS if t not in NODE_SCHEMAS
    ]
    for name, schema in NODE_SCHEMAS.items():
        doc = NODE_DOCS.get(name)
        if doc is None:
            continue
        declared = set(schema.config.get("properties", {}))
        problems += [
            f"{name}: config field {f!r} is not described" for f in declared - set(doc.fields)
        ]
        problems += [
            f"{name}: {f!r} is described but not in the schema" for f in set(doc.fields) - declared
        ]
    return sorted(problems)


def example_nodes(node_type: str, doc: NodeDoc) -> dict[str, Any]:
    """The node's example as a flow's `nodes`: alone for a trigger, else after an API trigger."""
    if NODE_SCHEMAS[node_type].is_trigger:
        return {EXAMPLE_TRIGGER: doc.example}
    return {
        EXAMPLE_TRIGGER: {"type": "api-trigger", "links": [{"key": EXAMPLE_NODE}]},
        EXAMPLE_NODE: doc.example,
    }


def _variables() -> list[str]:
    lines = ["| Variable | What |", "|---|---|"]
    lines += [f"| `{name}` | {what} |" for name, what in VARIABLES.items()]
    lines += [
        "",
        "A node may add variables of its own (`event` in `wait-for-event` filters); its "
        "section says so. The node an action runs (`/actions`, and `run-action` nodes) sees "
        "instead:",
        "",
        "| Variable | What |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | {what} |" for name, what in ACTION_VARIABLES.items()]
    return lines


def _index() -> list[str]:
    lines = ["", "## Node types", "", "| Type | What it does |", "|---|---|"]
    for name, doc in NODE_DOCS.items():
        if name in NODE_SCHEMAS:
            first = doc.summary.split(". ")[0].rstrip(".")
            lines.append(f"| [`{name}`](#{name}) | {first}. |")
    return lines


def _config(node_type: str, doc: NodeDoc) -> list[str]:
    config = NODE_SCHEMAS[node_type].config
    properties: dict[str, Any] = config.get("properties", {})
    used = [n for n in properties if n not in doc.fields or doc.fields[n].used]
    if not properties:
        return ["No config."]
    lines = [
        "| Field | Type | Required | Value | Default | Meaning |",
        "|---|---|---|---|---|---|",
    ]
    for name in used:
        field = doc.fields.get(name, FieldDoc("(not described yet)"))
        lines.append(
            f"| `{name}` | {type_text(properties[name])} | {required_text(name, config)} | "
            f"{value_text(field, properties[name])} | {field.default or ''} | {field.meaning} |"
        )
    ignored = [n for n in properties if n not in used]
    if ignored:
        names = ", ".join(_code(n) for n in ignored)
        lines += ["", f"Also accepted by the shared schema, and ignored by this node: {names}."]
    return lines


def _section(node_type: str, doc: NodeDoc) -> list[str]:
    lines = ["", f"### `{node_type}`", "", doc.summary, "", "**Config**", ""]
    lines += _config(node_type, doc)
    lines += ["", f"**Output**: {doc.output}"]
    if doc.errors:
        keys = ", ".join(_code(k) for k in doc.errors)
        lines += ["", f"**Fails with** {keys}, besides the [usual ones](#failures)."]
    if doc.notes:
        lines += ["", *(f"- {note}" for note in doc.notes)]
    nodes = example_nodes(node_type, doc)
    example = [f'  "{key}": {json.dumps(node)}' for key, node in nodes.items()]
    lines += ["", "**Example**", "", "```json", '{"nodes": {', ",\n".join(example), "}}", "```"]
    return lines


def render() -> str:
    """docs/nodes.md as it must be."""
    lines = [HEADER.rstrip("\n"), "", *_variables(), *_index()]
    triggers = [n for n in NODE_DOCS if n in NODE_SCHEMAS and NODE_SCHEMAS[n].is_trigger]
    steps = [n for n in NODE_DOCS if n in NODE_SCHEMAS and n not in triggers]
    lines += ["", "## Triggers", "", "Exactly one per flow; nothing links to it."]
    for name in triggers:
        lines += _section(name, NODE_DOCS[name])
    lines += ["", "## Steps"]
    for name in steps:
        lines += _section(name, NODE_DOCS[name])
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Writes or checks docs/nodes.md; 1 when `--check` finds it stale or a field undescribed."""
    parser = argparse.ArgumentParser(description="The flow node reference, docs/nodes.md.")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="regenerate the file")
    action.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    problems = undescribed()
    for problem in problems:
        print(f"core/elements/node_docs.py: {problem}", file=sys.stderr)
    wanted = render()
    if args.write:
        DOC_PATH.write_text(wanted)
        return 1 if problems else 0
    if not DOC_PATH.exists() or DOC_PATH.read_text() != wanted:
        print(f"{DOC_PATH.name} is stale; run `make nodes-doc`.")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
