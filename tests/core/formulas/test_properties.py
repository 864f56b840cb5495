"""Property tests: determinism, an export/import round trip, and robustness on any input."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from core.formulas import (
    FORMULAS,
    FormulaEvaluationError,
    evaluate,
    infer_output_schema,
    validate_formula,
)

KEYS = ["a", "b", "c", "name", "items"]

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(-5, 5), st.text(max_size=6)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)
    ),
    max_leaves=8,
)
variables_strategy = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5)
locators = st.sampled_from(["a", "b", "$.c", "name", "items[0]", "a.b", "missing"])


def formulas(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    condition = st.fixed_dictionaries(
        {
            "field": locators,
            "operator": st.sampled_from(["is", "is_empty", "contains", "is_one_of", "more_than"]),
            "value": json_scalars,
        }
    )
    return st.one_of(
        st.builds(lambda v: {"$concat": v}, st.lists(inner, max_size=3)),
        st.builds(lambda loc: {"$tpl": f"<{{{loc}}}>"}, locators),
        st.builds(
            lambda f, a, b: {"$case": [{"filter": f, "value": a}, {"value": b}]},
            condition,
            inner,
            inner,
        ),
        st.builds(lambda v: {"$eval": v, "isNotEmpty": True}, inner),
        st.builds(lambda v: {"$firstNotEmpty": v}, st.lists(inner, max_size=3)),
        st.builds(
            lambda v, d: {"$map": {"value": v, "mapping": [{"from": "x", "to": 1}], "default": d}},
            inner,
            inner,
        ),
        st.builds(lambda v: {"$and": v}, st.lists(inner, max_size=3)),
        st.builds(lambda v: {"$iterate": {"source": {"$var": "items"}, "item": v}}, inner),
        st.dictionaries(st.sampled_from(["x", "y"]), inner, max_size=2),
    )


mappings = st.recursive(
    st.one_of(json_scalars, st.builds(lambda loc: {"$var": loc}, locators)),
    formulas,
    max_leaves=10,
)


def outcome(mapping: Any, variables: Any) -> tuple[str, Any]:
    try:
        return "ok", evaluate(mapping, variables)
    except FormulaEvaluationError as error:
        return "error", str(error)


@settings(max_examples=300, deadline=None, database=None)
@given(mapping=mappings, variables=variables_strategy, other=variables_strategy)
def test_same_input_gives_same_output(mapping: Any, variables: Any, other: Any) -> None:
    snapshot = copy.deepcopy(variables)
    first = outcome(mapping, variables)
    outcome(mapping, other)
    assert outcome(mapping, copy.deepcopy(variables)) == first
    assert variables == snapshot


EXPORT = {
    "fullName": {
        "$concat": {"values": [{"$var": "firstName"}, {"$var": "lastName"}], "delimiter": " "}
    },
    "email": {"$var": "email"},
    "state": {
        "$map": {
            "value": {"$var": "active"},
            "mapping": [{"from": True, "to": "active"}, {"from": False, "to": "inactive"}],
        }
    },
    "labels": {"$iterate": {"source": {"$var": "tags"}, "item": {"name": {"$var": "item"}}}},
}
IMPORT = {
    "firstName": {"$firstName": {"$var": "fullName"}},
    "lastName": {"$lastName": {"$var": "fullName"}},
    "email": {"$var": "email"},
    "active": {"$eval": {"$var": "state"}, "is": "active"},
    "tags": {"$iterate": {"source": {"$var": "labels"}, "item": {"$var": "item.name"}}},
}

word = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=8)
app_records = st.fixed_dictionaries(
    {
        "firstName": word,
        "lastName": st.lists(word, min_size=1, max_size=3).map(" ".join),
        "email": st.emails(),
        "active": st.booleans(),
        "tags": st.lists(st.text(max_size=5), max_size=4),
    }
)


@settings(max_examples=200, deadline=None, database=None)
@given(record=app_records)
def test_import_after_export_gives_back_the_record(record: dict[str, Any]) -> None:
    assert evaluate(IMPORT, evaluate(EXPORT, record)) == record


arbitrary_formulas = st.recursive(
    json_values,
    lambda inner: st.one_of(
        st.builds(lambda name, arg: {name: arg}, st.sampled_from(sorted(FORMULAS)), inner),
        st.dictionaries(
            st.sampled_from([*KEYS, "value", "mapping", "source", "item"]), inner, max_size=3
        ),
        st.lists(inner, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None, database=None)
@given(mapping=arbitrary_formulas, variables=variables_strategy)
def test_any_input_is_checked_and_evaluated_without_crashing(mapping: Any, variables: Any) -> None:
    problems = validate_formula(mapping, {"type": "object", "properties": {"a": {}}})
    assert all(isinstance(problem.path, str) for problem in problems)
    assert isinstance(infer_output_schema(mapping, {"properties": {"a": {"type": "array"}}}), dict)
    with contextlib.suppress(FormulaEvaluationError):
        evaluate(mapping, variables)
