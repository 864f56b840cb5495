from __future__ import annotations

import pytest

from core.formulas import UNDEFINED, FormulaEvaluationError, evaluate

STATUS_MAP = {
    "$map": {
        "value": {"$var": "status"},
        "mapping": [
            {"from": "open", "to": "OPEN"},
            {"from": 1, "to": "one"},
            {"from": True, "to": "yes"},
            {"from": None, "to": "null"},
            {"from": ["a"], "to": "list"},
            {"from": "tpl", "to": {"$tpl": "[{status}]"}},
        ],
        "default": {"$concat": ["?", {"$var": "status"}]},
    }
}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("open", "OPEN"),
        (1, "one"),
        (1.0, "one"),
        (True, "yes"),
        (None, "null"),
        (["a"], "list"),
        ("tpl", "[tpl]"),
        ("closed", "?closed"),
    ],
)
def test_map(status: object, expected: str) -> None:
    assert evaluate(STATUS_MAP, {"status": status}) == expected


def test_map_does_not_confuse_booleans_and_numbers() -> None:
    mapping = {"$map": {"value": {"$var": "v"}, "mapping": [{"from": 1, "to": "one"}]}}
    assert evaluate(mapping, {"v": True}) is UNDEFINED


def test_map_without_default_or_value_is_undefined() -> None:
    mapping = {"$map": {"value": {"$var": "v"}, "mapping": [{"from": "a", "to": "A"}]}}
    assert evaluate(mapping, {"v": "b"}) is UNDEFINED
    assert evaluate(mapping, {}) is UNDEFINED


CASES = [
    {"filter": {"field": "amount", "operator": "more_than", "value": 100}, "value": "big"},
    {
        "filter": [
            {"field": "amount", "operator": "more_than", "value": 10},
            {"field": "vip", "operator": "is_true"},
        ],
        "value": {"$tpl": "vip {amount}"},
    },
    {"value": "small"},
]


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"amount": 500}, "big"),
        ({"amount": 50, "vip": True}, "vip 50"),
        ({"amount": 50, "vip": False}, "small"),
        ({}, "small"),
    ],
)
def test_case_list_form(variables: dict[str, object], expected: str) -> None:
    assert evaluate({"$case": CASES}, variables) == expected


def test_case_object_form_with_default() -> None:
    mapping = {"$case": {"cases": CASES[:2], "default": {"$var": "fallback"}}}
    assert evaluate(mapping, {"amount": 1, "fallback": "fb"}) == "fb"
    assert evaluate(mapping, {"amount": 1}) is UNDEFINED
    assert evaluate(mapping, {"amount": 101}) == "big"


def test_case_filter_value_can_be_a_formula() -> None:
    mapping = {
        "$case": [
            {
                "filter": {"field": "a", "operator": "is", "value": {"$var": "b"}},
                "value": "same",
            },
            {"value": "different"},
        ]
    }
    assert evaluate(mapping, {"a": 2, "b": 2}) == "same"
    assert evaluate(mapping, {"a": 2, "b": 3}) == "different"


@pytest.mark.parametrize(
    ("operator", "operand", "value", "expected"),
    [
        ("is", "x", "x", True),
        ("is", 1, True, False),
        ("isNot", "x", "y", True),
        ("oneOf", ["a", "b"], "b", True),
        ("oneOf", ["a", "b"], "c", False),
        ("noneOf", ["a", "b"], "c", True),
        ("contains", "ell", "hello", True),
        ("contains", "b", ["a", "b"], True),
        ("doesNotContain", "z", "hello", True),
        ("lt", 5, 3, True),
        ("lte", 3, 3, True),
        ("gt", "2024-01-01", "2024-06-01", True),
        ("gte", 4, 3, False),
        ("lt", 5, None, False),
        ("isEmpty", True, "", True),
        ("isEmpty", True, [], True),
        ("isEmpty", True, 0, False),
        ("isNotEmpty", True, "x", True),
    ],
)
def test_eval_operators(operator: str, operand: object, value: object, expected: bool) -> None:
    assert evaluate({"$eval": {"$var": "v"}, operator: operand}, {"v": value}) is expected


def test_eval_on_missing_value() -> None:
    assert evaluate({"$eval": {"$var": "v"}, "isEmpty": True}, {}) is True
    assert evaluate({"$eval": {"$var": "v"}, "is": None}, {}) is False


def test_eval_operand_can_be_a_formula() -> None:
    assert evaluate({"$eval": {"$var": "a"}, "gt": {"$var": "b"}}, {"a": 3, "b": 2}) is True


def test_eval_type_error_names_types() -> None:
    with pytest.raises(FormulaEvaluationError) as raised:
        evaluate({"check": {"$eval": {"$var": "a"}, "lt": 5}}, {"a": "4"})
    assert raised.value.path == "check.$eval"
    assert "lt: cannot compare string with integer" in raised.value.message


@pytest.mark.parametrize(
    ("values", "all_true", "any_true"),
    [
        ([True, 1, "x"], True, True),
        ([True, 0], False, True),
        ([None, ""], False, False),
        ([], True, False),
    ],
)
def test_and_or(values: list[object], all_true: bool, any_true: bool) -> None:
    assert evaluate({"$and": values}, {}) is all_true
    assert evaluate({"$or": values}, {}) is any_true


def test_and_or_evaluate_formulas_and_short_circuit() -> None:
    failing = {"$firstName": 5}
    assert evaluate({"$and": [{"$var": "missing"}, failing]}, {}) is False
    assert evaluate({"$or": [{"$eval": {"$var": "a"}, "is": 1}, failing]}, {"a": 1}) is True
