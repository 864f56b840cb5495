"""docs/nodes.md: generated, complete, and true to the code it describes.

The file must equal what core/elements/node_reference.py renders from the node schemas and
core/elements/node_docs.py (as connectors/connector.schema.json is checked). Beyond that, what
the words claim is checked against the code: every node type and config field is described,
every example is a valid flow node, the variables listed are the ones the interpreter and the
action runner build, and a field said to be a formula is one the node evaluates (and a field
read as written is one it never evaluates).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest

from core.elements import node_reference
from core.elements.flows import flow_problems
from core.elements.node_docs import ACTION_VARIABLES, NODE_DOCS, VARIABLES
from core.elements.node_reference import example_nodes, render, undescribed
from core.elements.node_schemas import NODE_SCHEMAS
from workflows import interpreter
from workflows.nodes import NODE_TYPES, run_action

NODES_PACKAGE = Path(inspect.getfile(run_action)).parent


def test_the_checked_in_reference_is_the_generated_one() -> None:
    assert node_reference.DOC_PATH.read_text() == render(), "run `make nodes-doc`"


def test_check_fails_when_the_file_is_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = tmp_path / "nodes.md"
    stale.write_text("# Flow nodes\n")
    monkeypatch.setattr(node_reference, "DOC_PATH", stale)
    assert node_reference.main(["--check"]) == 1
    assert node_reference.main(["--write"]) == 0
    assert node_reference.main(["--check"]) == 0
    assert stale.read_text() == render()


def test_every_node_type_and_config_field_is_described() -> None:
    assert undescribed() == []


def test_an_undescribed_field_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = NODE_SCHEMAS["delay"]
    config = {**schema.config, "properties": {**schema.config["properties"], "jitter": {}}}
    schemas = {**NODE_SCHEMAS, "delay": type(schema)(config, schema.is_trigger)}
    monkeypatch.setattr(node_reference, "NODE_SCHEMAS", schemas)
    assert undescribed() == ["delay: config field 'jitter' is not described"]


@pytest.mark.parametrize("node_type", sorted(NODE_DOCS))
def test_each_example_is_a_valid_flow(node_type: str) -> None:
    nodes = example_nodes(node_type, NODE_DOCS[node_type])
    assert nodes[node_reference.EXAMPLE_NODE if len(nodes) > 1 else "start"]["type"] == node_type
    assert flow_problems({"nodes": nodes}) == []


def _dict_paths(node: ast.Dict, prefix: str = "") -> set[str]:
    """`a.b` for every leaf of a dict literal whose keys are strings."""
    paths: set[str] = set()
    for key, value in zip(node.keys, node.values, strict=True):
        assert isinstance(key, ast.Constant) and isinstance(key.value, str)
        name = f"{prefix}{key.value}"
        paths |= _dict_paths(value, f"{name}.") if isinstance(value, ast.Dict) else {name}
    return paths


def _assigned_dict(module: Any, target: str) -> ast.Dict:
    """The dict literal assigned to `target` (`self.base`) or passed as `target=` in `module`."""
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Dict)
            and any(ast.unparse(t) == target for t in node.targets)
        ):
            return node.value
        if isinstance(node, ast.keyword) and node.arg == target:
            assert isinstance(node.value, ast.Dict)
            return node.value
    raise AssertionError(f"no dict assigned to {target} in {module.__name__}")


def test_the_variables_are_the_ones_a_flow_node_sees() -> None:
    built = _dict_paths(_assigned_dict(interpreter, "self.base")) | {"input.<nodeKey>"}
    assert set(VARIABLES) == built


def test_the_variables_are_the_ones_an_action_node_sees() -> None:
    built = _dict_paths(_assigned_dict(run_action, "variables"))
    assert set(ACTION_VARIABLES) == built


class _Evaluated(ast.NodeVisitor):
    """Config keys a module passes to `*.evaluate(...)`: `config["k"]`, `config.get("k")`, or
    `config[name]` inside `for name in ("a", "b")`."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.loops: dict[str, list[str]] = {}

    def visit_For(self, node: ast.For) -> None:
        if isinstance(node.target, ast.Name) and isinstance(node.iter, ast.Tuple):
            values = [e.value for e in node.iter.elts if isinstance(e, ast.Constant)]
            self.loops[node.target.id] = [v for v in values if isinstance(v, str)]
        self.generic_visit(node)

    def _key(self, node: ast.expr) -> list[str]:
        if isinstance(node, ast.Subscript):
            index = node.slice
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith(".get") and node.args:
            index = node.args[0]
        else:
            return []
        if isinstance(index, ast.Constant) and isinstance(index.value, str):
            return [index.value]
        if isinstance(index, ast.Name):
            return self.loops.get(index.id, [])
        return []

    def visit_Call(self, node: ast.Call) -> None:
        if ast.unparse(node.func).endswith(".evaluate") and node.args:
            self.keys.update(self._key(node.args[0]))
        self.generic_visit(node)


def _evaluated_keys(node_type: str) -> set[str]:
    """What the node's module, and the node modules it imports, evaluate."""
    module_name = type(NODE_TYPES[node_type]).__module__.rsplit(".", 1)[-1]
    names, visitor = {module_name}, _Evaluated()
    tree = ast.parse((NODES_PACKAGE / f"{module_name}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("workflows.nodes."):
            names.add(str(node.module).rsplit(".", 1)[-1])
    for name in sorted(names):
        visitor.visit(ast.parse((NODES_PACKAGE / f"{name}.py").read_text()))
    return visitor.keys


@pytest.mark.parametrize("node_type", sorted(t for t in NODE_DOCS if NODE_DOCS[t].fields))
def test_formula_fields_are_the_ones_the_node_evaluates(node_type: str) -> None:
    evaluated = _evaluated_keys(node_type)
    for name, field in NODE_DOCS[node_type].fields.items():
        if not field.used:
            continue
        if field.value == "formula":
            assert name in evaluated, f"{node_type}.{name} is documented as a formula"
        else:
            assert name not in evaluated, f"{node_type}.{name} is evaluated as a formula"


def test_the_evaluation_check_sees_each_way_a_key_is_read() -> None:
    visitor = _Evaluated()
    visitor.visit(
        ast.parse(
            "ctx.evaluate(config['a'])\nctx.evaluate(ctx.config.get('b'))\n"
            "for name in ('c', 'd'):\n    ctx.evaluate(config[name])\nconfig['e']\n"
        )
    )
    assert visitor.keys == {"a", "b", "c", "d"}
