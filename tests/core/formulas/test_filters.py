from __future__ import annotations

from typing import Any

import pytest

from core.formulas import (
    FILTER_OPERATORS,
    FormulaEvaluationError,
    InvalidFormulaError,
    matches_filter,
)

RECORD = {
    "name": "Ada Lovelace",
    "status": "active",
    "age": 36,
    "score": 9.5,
    "vip": True,
    "archived": False,
    "tags": ["math", "poetry"],
    "empty": "",
    "nothing": None,
    "joined": "1843-07-01",
    "address": {"city": "London"},
}

CASES: list[tuple[str, str, Any, bool]] = [
    ("status", "is", "active", True),
    ("status", "is", "Active", False),
    ("age", "is", 36.0, True),
    ("status", "is_not", "active", False),
    ("missing", "is_not", "x", True),
    ("status", "is_one_of", ["active", "new"], True),
    ("status", "is_one_of", ["new"], False),
    ("status", "is_not_one_of", ["new"], True),
    ("status", "is_not_one_of", ["active"], False),
    ("vip", "is_true", None, True),
    ("archived", "is_true", None, False),
    ("status", "is_true", None, False),
    ("archived", "is_false", None, True),
    ("missing", "is_false", None, False),
    ("name", "contains", "Love", True),
    ("name", "contains", "love", False),
    ("tags", "contains", "math", True),
    ("missing", "contains", "x", False),
    ("name", "does_not_contain", "Byron", True),
    ("tags", "does_not_contain", "math", False),
    ("tags", "array_includes", "poetry", True),
    ("tags", "array_includes", "art", False),
    ("missing", "array_includes", "art", False),
    ("tags", "array_does_not_include", "art", True),
    ("tags", "array_does_not_include", "math", False),
    ("age", "less_than", 40, True),
    ("age", "less_than", 36, False),
    ("age", "less_than_or_equal", 36, True),
    ("score", "more_than", 9, True),
    ("score", "more_than", 9.5, False),
    ("score", "more_than_or_equal", 9.5, True),
    ("joined", "less_than", "1900-01-01", True),
    ("missing", "more_than", 1, False),
    ("empty", "is_empty", None, True),
    ("nothing", "is_empty", None, True),
    ("missing", "is_empty", None, True),
    ("tags", "is_empty", None, False),
    ("name", "is_not_empty", None, True),
    ("empty", "is_not_empty", None, False),
    ("address.city", "is", "London", True),
    ("$.tags[1]", "is", "poetry", True),
]


@pytest.mark.parametrize(("field", "operator", "value", "expected"), CASES)
def test_filter_operator(field: str, operator: str, value: Any, expected: bool) -> None:
    condition = {"field": field, "operator": operator}
    if value is not None:
        condition["value"] = value
    assert matches_filter(condition, RECORD) is expected


def test_every_operator_is_covered() -> None:
    assert {operator for _, operator, _, _ in CASES} == set(FILTER_OPERATORS)


def test_list_of_conditions_means_all() -> None:
    conditions: list[dict[str, Any]] = [
        {"field": "status", "operator": "is", "value": "active"},
        {"field": "age", "operator": "more_than", "value": 30},
    ]
    assert matches_filter(conditions, RECORD) is True
    conditions[1]["value"] = 40
    assert matches_filter(conditions, RECORD) is False
    assert matches_filter([], RECORD) is True


def test_filter_value_can_be_a_formula() -> None:
    condition = {"field": "status", "operator": "is", "value": {"$var": "expected"}}
    assert matches_filter(condition, {"status": "a", "expected": "a"}) is True
    assert matches_filter(condition, {"status": "a", "expected": "b"}) is False


def test_filter_comparing_incompatible_types_fails_with_types() -> None:
    with pytest.raises(FormulaEvaluationError) as raised:
        matches_filter([{"field": "age", "operator": "less_than", "value": "40"}], RECORD)
    assert raised.value.path == "[0]"
    assert "less_than: cannot compare integer with string" in raised.value.message


def test_is_one_of_needs_a_list() -> None:
    with pytest.raises(FormulaEvaluationError, match="expected an array of options, got string"):
        matches_filter({"field": "status", "operator": "is_one_of", "value": "active"}, RECORD)


def test_malformed_filter_reports_every_problem() -> None:
    with pytest.raises(InvalidFormulaError) as raised:
        matches_filter(
            [{"field": "a", "operator": "equalz", "value": 1}, {"operator": "is"}, "nope"], {}
        )
    assert [str(p) for p in raised.value.problems] == [
        '[0].operator: unknown operator "equalz"',
        "[1].field: a condition needs a field",
        "[1].value: operator is needs a value",
        "[2]: a condition must be an object {field, operator, value}",
    ]
