from __future__ import annotations

from typing import Any

import pytest

from core.formulas import (
    UNDEFINED,
    FormulaEvaluationError,
    InvalidFormulaError,
    compile_formula,
    evaluate,
)


def test_objects_and_arrays_are_built_recursively() -> None:
    mapping = {
        "name": {"$var": "name"},
        "tags": ["fixed", {"$var": "tag"}, [{"$var": "n"}]],
        "nested": {"deep": {"value": {"$var": "n"}}},
        "constant": 3,
    }
    result = evaluate(mapping, {"name": "Ada", "tag": "vip", "n": 1})
    assert result == {
        "name": "Ada",
        "tags": ["fixed", "vip", [1]],
        "nested": {"deep": {"value": 1}},
        "constant": 3,
    }


def test_undefined_results_are_dropped_from_objects_and_arrays() -> None:
    mapping = {"a": {"$var": "missing"}, "b": [{"$var": "missing"}, 1], "c": {"$var": "nil"}}
    assert evaluate(mapping, {"nil": None}) == {"b": [1], "c": None}


def test_top_level_formula_without_result_is_undefined() -> None:
    assert evaluate({"$var": "missing"}, {}) is UNDEFINED


def test_empty_mapping_and_constants() -> None:
    assert evaluate({}, {"a": 1}) == {}
    assert evaluate([], {}) == []
    assert evaluate("text", {}) == "text"
    assert evaluate(None, {}) is None


def test_object_with_a_dollar_key_among_others_is_a_plain_object() -> None:
    assert evaluate({"$custom": 1, "other": 2}, {}) == {"$custom": 1, "other": 2}


def test_known_formula_mixed_with_other_keys_is_invalid() -> None:
    with pytest.raises(InvalidFormulaError) as raised:
        evaluate({"$var": "a", "other": 2}, {"a": 1})
    assert raised.value.path == "$var"
    assert "must be the only key" in raised.value.message


def test_results_do_not_share_objects_between_evaluations() -> None:
    compiled = compile_formula({"list": [1, 2], "plain": {"$plain": {"x": [1]}}})
    first = compiled.evaluate({})
    first["list"].append(3)
    first["plain"]["x"].append(2)
    assert compiled.evaluate({}) == {"list": [1, 2], "plain": {"x": [1]}}


def test_equal_mappings_share_one_compilation() -> None:
    assert (
        compile_formula({"a": {"$var": "x"}})._evaluator
        is compile_formula({"a": {"$var": "x"}})._evaluator
    )


def test_invalid_formula_lists_every_problem() -> None:
    with pytest.raises(InvalidFormulaError) as raised:
        evaluate({"a": {"$nope": 1}, "b": {"$map": {"value": 1, "mapping": 2}}}, {})
    assert [str(p) for p in raised.value.problems] == [
        'a.$nope: unknown formula "$nope"',
        "b.$map.mapping: expected a list of {from, to}",
    ]
    assert raised.value.data["errors"][0] == {
        "path": "a.$nope",
        "message": 'unknown formula "$nope"',
    }


def test_type_error_names_path_and_type() -> None:
    mapping: dict[str, Any] = {
        "fields": {"owner": {"$case": [{"value": 1}, {"value": {"$firstName": {"$var": "n"}}}]}}
    }
    mapping["fields"]["owner"]["$case"][0]["filter"] = {"field": "x", "operator": "is_true"}
    with pytest.raises(FormulaEvaluationError) as raised:
        evaluate(mapping, {"n": 42, "x": False})
    assert raised.value.path == "fields.owner.$case[1].value.$firstName"
    assert "expected string, got integer" in raised.value.message
    assert "42" in raised.value.message


def test_sensitive_output_path_hides_the_value() -> None:
    mapping = {"credentials": {"password": {"$firstName": {"$var": "secret"}}}}
    with pytest.raises(FormulaEvaluationError) as raised:
        evaluate(mapping, {"secret": 987654}, sensitive={"credentials.password"})
    assert "expected string, got integer" in raised.value.message
    assert "987654" not in str(raised.value)


def test_sensitive_input_key_hides_the_value() -> None:
    mapping = {"when": {"$extractDate": {"$var": "auth.apiKey"}}}
    with pytest.raises(FormulaEvaluationError) as raised:
        evaluate(mapping, {"auth": {"apiKey": "sk-live-123"}}, sensitive={"apiKey"})
    assert "ISO 8601" in raised.value.message
    assert "sk-live-123" not in str(raised.value)
    with pytest.raises(FormulaEvaluationError) as shown:
        evaluate(mapping, {"auth": {"apiKey": "sk-live-123"}})
    assert "sk-live-123" in str(shown.value)


def test_error_is_an_osmo_error_with_a_key() -> None:
    with pytest.raises(FormulaEvaluationError) as raised:
        evaluate({"$firstName": 5}, {})
    assert raised.value.to_dict()["key"] == "formula_evaluation_error"
    assert raised.value.status == 422
