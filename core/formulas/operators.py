"""Comparison operators shared by filter conditions and `$eval`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.formulas.values import UNDEFINED, is_empty, is_missing, json_equal, json_type, to_text

Operator = Callable[[Any, Any], bool]


_ORDERED = frozenset({(int, int), (int, float), (float, int), (float, float), (str, str)})


class OperandTypeError(TypeError):
    """An operand has a type the operator cannot work with; the message names only types."""


def _is(left: Any, right: Any) -> bool:
    return json_equal(left, right)


def _is_not(left: Any, right: Any) -> bool:
    return not json_equal(left, right)


def _options(right: Any) -> list[Any]:
    if is_missing(right):
        return []
    if type(right) is not list:
        raise OperandTypeError(f"expected an array of options, got {json_type(right)}")
    return right


def _is_one_of(left: Any, right: Any) -> bool:
    return any(json_equal(left, option) for option in _options(right))


def _is_not_one_of(left: Any, right: Any) -> bool:
    return not _is_one_of(left, right)


def _contains(left: Any, right: Any) -> bool:
    if is_missing(left) or is_missing(right):
        return False
    if type(left) is str:
        return to_text(right) in left
    if type(left) is list:
        return any(json_equal(item, right) for item in left)
    raise OperandTypeError(f"expected string or array, got {json_type(left)}")


def _does_not_contain(left: Any, right: Any) -> bool:
    return not _contains(left, right)


def _array_includes(left: Any, right: Any) -> bool:
    if is_missing(left):
        return False
    if type(left) is not list:
        raise OperandTypeError(f"expected array, got {json_type(left)}")
    return any(json_equal(item, right) for item in left)


def _array_does_not_include(left: Any, right: Any) -> bool:
    return not _array_includes(left, right)


def _comparable(left: Any, right: Any) -> bool:
    """Whether an ordering applies; missing operands make every ordering false."""
    if left is None or right is None or left is UNDEFINED or right is UNDEFINED:
        return False
    kinds = (type(left), type(right))
    if kinds in _ORDERED:
        return True
    raise OperandTypeError(f"cannot compare {json_type(left)} with {json_type(right)}")


def _less_than(left: Any, right: Any) -> bool:
    return _comparable(left, right) and left < right


def _less_than_or_equal(left: Any, right: Any) -> bool:
    return _comparable(left, right) and left <= right


def _more_than(left: Any, right: Any) -> bool:
    return _comparable(left, right) and left > right


def _more_than_or_equal(left: Any, right: Any) -> bool:
    return _comparable(left, right) and left >= right


def _is_true(left: Any, right: Any) -> bool:
    return left is True


def _is_false(left: Any, right: Any) -> bool:
    return left is False


def _is_empty(left: Any, right: Any) -> bool:
    return is_empty(left)


def _is_not_empty(left: Any, right: Any) -> bool:
    return not is_empty(left)


FILTER_OPERATORS: dict[str, Operator] = {
    "is": _is,
    "is_not": _is_not,
    "is_one_of": _is_one_of,
    "is_not_one_of": _is_not_one_of,
    "is_true": _is_true,
    "is_false": _is_false,
    "contains": _contains,
    "does_not_contain": _does_not_contain,
    "array_includes": _array_includes,
    "array_does_not_include": _array_does_not_include,
    "less_than": _less_than,
    "less_than_or_equal": _less_than_or_equal,
    "more_than": _more_than,
    "more_than_or_equal": _more_than_or_equal,
    "is_empty": _is_empty,
    "is_not_empty": _is_not_empty,
}

EVAL_OPERATORS: dict[str, Operator] = {
    "is": _is,
    "isNot": _is_not,
    "oneOf": _is_one_of,
    "noneOf": _is_not_one_of,
    "contains": _contains,
    "doesNotContain": _does_not_contain,
    "lt": _less_than,
    "lte": _less_than_or_equal,
    "gt": _more_than,
    "gte": _more_than_or_equal,
    "isEmpty": _is_empty,
    "isNotEmpty": _is_not_empty,
}

# Operators that look only at the left side; their `value` is optional.
UNARY_OPERATORS = frozenset(
    {"is_true", "is_false", "is_empty", "is_not_empty", "isEmpty", "isNotEmpty"}
)
