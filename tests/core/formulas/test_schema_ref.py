from __future__ import annotations

import pytest

from core.formulas import FormulaEvaluationError, InvalidFormulaError, evaluate
from core.schemas import StaticSchemaResolver

TASK = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "assignee": {"$dataSchemaRef": {"type": "app-data-schema", "key": "user"}},
    },
}
USER = {"type": "object", "properties": {"email": {"type": "string"}}}
SCHEMAS = StaticSchemaResolver(app_data_schemas={"user": USER}, data_collections={"tasks": TASK})


def test_returns_the_referenced_schema_with_nested_refs_resolved() -> None:
    mapping = {"schema": {"$dataSchemaRef": {"type": "data-collection", "key": {"$var": "c"}}}}
    result = evaluate(mapping, {"c": "tasks"}, schemas=SCHEMAS)
    assert result == {
        "schema": {
            "type": "object",
            "properties": {"title": {"type": "string"}, "assignee": USER},
        }
    }


def test_unknown_reference_fails_with_path() -> None:
    mapping = {"s": {"$dataSchemaRef": {"type": "app-data-schema", "key": "nope"}}}
    with pytest.raises(FormulaEvaluationError) as raised:
        evaluate(mapping, {}, schemas=SCHEMAS)
    assert raised.value.path == "s.$dataSchemaRef"
    assert 'cannot resolve $dataSchemaRef to app-data-schema "nope"' in raised.value.message


def test_without_a_resolver_it_fails_clearly() -> None:
    with pytest.raises(FormulaEvaluationError, match="no schema resolver"):
        evaluate({"$dataSchemaRef": {"type": "app-data-schema", "key": "user"}}, {})


def test_malformed_reference_is_a_problem() -> None:
    with pytest.raises(InvalidFormulaError) as raised:
        evaluate({"$dataSchemaRef": {"type": "app-data-schema"}}, {})
    assert str(raised.value.problems[0]) == "$dataSchemaRef.key: a schema reference needs a key"
