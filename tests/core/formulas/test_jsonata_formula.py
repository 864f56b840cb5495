from __future__ import annotations

import gc
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import jsonatapy
import pytest

from core.formulas import (
    UNDEFINED,
    FormulaEvaluationError,
    InvalidFormulaError,
    compile_formula,
    evaluate,
    jsonata_formula,
)
from core.formulas.jsonata_formula import compile_expression, expression_problem

ORDER = {
    "customer": {"first": "Ada", "last": "Lovelace"},
    "lines": [{"sku": "A", "qty": 2, "price": 10.5}, {"sku": "B", "qty": 1, "price": 4}],
    "note": None,
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("customer.first & ' ' & customer.last", "Ada Lovelace"),
        ("$sum(lines.(qty * price))", 25),
        ("lines.sku", ["A", "B"]),
        ("lines[qty > 1].sku", "A"),
        ("$count(lines)", 2),
        ('{"n": $count(lines), "skus": $join(lines.sku, ",")}', {"n": 2, "skus": "A,B"}),
        ("note", None),
        ("[1, null, 2]", [1, None, 2]),
        ("$uppercase(customer.first)", "ADA"),
    ],
)
def test_jsonata_evaluates_over_the_variables(expression: str, expected: Any) -> None:
    assert evaluate({"$jsonata": expression}, ORDER) == expected


# The comparison's conformance set (docs/jsonata-comparison.md), with the answers of the
# JSONata reference implementation; UNDEFINED where the reference gives undefined.
CONFORMANCE_DATA = {
    "name": "Ada Lovelace",
    "age": 36,
    "nickname": None,
    "tags": ["math", "poetry"],
    "address": {"city": "London"},
    "orders": [
        {"sku": "A", "amount": 10.5, "qty": 2},
        {"sku": "B", "amount": 4, "qty": 1},
        {"sku": "C", "amount": 7.25, "qty": 4},
    ],
}
CONFORMANCE: list[tuple[str, Any]] = [
    ("$sum(orders.(amount * qty))", 54),
    ("name & ' (' & $string(age) & ')'", "Ada Lovelace (36)"),
    ("orders[qty > 1].sku", ["A", "C"]),
    ("orders[0].sku", "A"),
    ("orders[sku = 'B'].amount * 2", 8),
    ("$count(orders)", 3),
    ("$max(orders.amount)", 10.5),
    ("$uppercase(address.city)", "LONDON"),
    ("age > 30 ? 'senior' : 'junior'", "senior"),
    ("$join(tags, ', ')", "math, poetry"),
    ("$substringBefore(name, ' ')", "Ada"),
    ("{'n': $count(tags), 'first': tags[0]}", {"n": 2, "first": "math"}),
    ("$string(1/3)", "0.333333333333333"),
    ("$round(2.675, 2)", 2.68),
    ("$formatNumber(1234.5, '#,##0.00')", "1,234.50"),
    ("$exists(missing)", False),
    ("nickname", None),
    ("missing", UNDEFINED),
]


@pytest.mark.parametrize(("expression", "expected"), CONFORMANCE)
def test_conformance_with_the_reference_implementation(expression: str, expected: Any) -> None:
    result = evaluate({"$jsonata": expression}, CONFORMANCE_DATA)
    assert result == expected
    assert type(result) is type(expected)


def test_jsonata_matches_the_library_evaluate() -> None:
    expression = "lines.{'sku': sku, 'total': qty * price}"
    assert evaluate({"$jsonata": expression}, ORDER) == jsonatapy.evaluate(expression, ORDER)


def test_jsonata_no_match_is_undefined_and_dropped() -> None:
    assert evaluate({"$jsonata": "nothing.here"}, ORDER) is UNDEFINED
    assert evaluate({"x": {"$jsonata": "nothing"}}, ORDER) == {}


def test_null_and_undefined_stay_apart() -> None:
    assert evaluate({"x": {"$jsonata": "note"}, "y": {"$jsonata": "nope"}}, ORDER) == {"x": None}
    assert evaluate({"$jsonata": "null"}, {}) is None
    assert evaluate({"$jsonata": "[nope, null]"}, {}) == [None]
    # The expression's own `$type` does not confuse the check that tells them apart.
    shadowing = "($type := function($v) { 'string' }; nope)"
    assert evaluate({"$jsonata": shadowing}, {}) is UNDEFINED


def test_jsonata_result_is_plain_json() -> None:
    result = evaluate({"$jsonata": "lines.sku"}, ORDER)
    assert type(result) is list


@pytest.mark.parametrize("expression", ["function($x) { $x }", "$uppercase", "/ab+/"])
def test_a_function_result_is_an_error(expression: str) -> None:
    with pytest.raises(FormulaEvaluationError, match="the expression returned a function"):
        evaluate({"f": {"$jsonata": expression}}, {})


def test_invalid_jsonata_is_a_problem_with_path() -> None:
    with pytest.raises(InvalidFormulaError) as raised:
        evaluate({"fields": {"total": {"$jsonata": "$sum(lines.price"}}}, ORDER)
    assert raised.value.path == "fields.total.$jsonata"
    assert raised.value.message == (
        "fields.total.$jsonata: invalid JSONata expression: Expected ) before end of expression"
    )


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("[1 2]", "Expected ], got 2"),
        ("(a 'x')", 'Expected ), got "x"'),
        ("a b", "Syntax error: b"),
        ("{'a' +}", "The symbol } cannot be used as a unary operator"),
        ("'abc", "String literal must be terminated by a matching quote"),
    ],
)
def test_syntax_errors_name_tokens_as_written(expression: str, message: str) -> None:
    assert expression_problem(expression) == f"invalid JSONata expression: {message}"


@pytest.mark.parametrize(
    "expression",
    [
        "$now()",
        "$millis()",
        "$random()",
        "$shuffle([1, 2])",
        "$eval('1+1')",
        "$now ()",
        "$now/* a comment */()",
        "{'at': $now('[Y]')}",
    ],
)
def test_non_deterministic_functions_are_refused(expression: str) -> None:
    with pytest.raises(InvalidFormulaError, match="not allowed: formulas must be deterministic"):
        evaluate({"$jsonata": expression}, {})


@pytest.mark.parametrize(
    ("expression", "name"),
    [
        ("($f := $now; $f())", "now"),
        ("$map([1, 2], $millis)", "millis"),
        ("$map([1, 2], $random)", "random"),
        ("($f := $shuffle; $f([1, 2, 3]))", "shuffle"),
        ("($e := $eval; $e('1 + 1'))", "eval"),
        ("($n := $now; [1].$n())", "now"),
    ],
)
def test_refused_function_called_indirectly_fails_at_run_time(expression: str, name: str) -> None:
    assert expression_problem(expression) is None
    with pytest.raises(FormulaEvaluationError) as raised:
        evaluate({"x": {"$jsonata": expression}}, {})
    assert raised.value.path == "x.$jsonata"
    assert (
        raised.value.message
        == f"x.$jsonata: ${name}() is not allowed: formulas must be deterministic"
    )


def test_refusal_cannot_be_faked_by_an_error_message() -> None:
    expression = "$error('host function raised JsonataUnsupported: ' & secret)"
    with pytest.raises(FormulaEvaluationError) as raised:
        evaluate({"x": {"$jsonata": expression}}, {"secret": "s3cr3t"}, sensitive=["x"])
    assert raised.value.message == "x.$jsonata: JSONata error D3137"


def test_unused_overrides_do_not_change_results() -> None:
    # `$nowhere` contains `$now`, so `$now` is overridden for this expression; harmlessly.
    mapping = {"$jsonata": "($nowhere := 'x'; $nowhere & $string($sum(lines.qty)))"}
    assert evaluate(mapping, ORDER) == "x3"


def test_results_do_not_depend_on_time_or_repetition() -> None:
    mapping = compile_formula({"$jsonata": "$string($sum(lines.(qty * price))) & $uppercase('x')"})
    first = mapping.evaluate(ORDER)
    time.sleep(0.01)
    assert [mapping.evaluate(ORDER) for _ in range(50)] == [first] * 50


def test_jsonata_runtime_error_has_code_and_path() -> None:
    with pytest.raises(FormulaEvaluationError) as raised:
        evaluate({"total": {"$jsonata": "customer.first + 1"}}, ORDER)
    assert raised.value.path == "total.$jsonata"
    assert raised.value.message == (
        "total.$jsonata: JSONata error T2001: The left side of the + operator must evaluate to a"
        " number"
    )


def test_runtime_error_detail_is_hidden_for_sensitive_fields() -> None:
    with pytest.raises(FormulaEvaluationError) as raised:
        evaluate(
            {"password": {"$jsonata": "$error('is ' & p)"}},
            {"p": "hunter2"},
            sensitive=["password"],
        )
    assert raised.value.message == "password.$jsonata: JSONata error D3137"


def test_variables_that_are_not_json_are_an_error() -> None:
    with pytest.raises(FormulaEvaluationError, match="cannot pass the variables to JSONata"):
        evaluate({"$jsonata": "day"}, {"day": date(2024, 1, 1)})
    # Fields the expression does not read are not converted.
    assert evaluate({"$jsonata": "n"}, {"n": 1, "day": date(2024, 1, 1)}) == 1


def test_jsonata_does_not_read_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    mapping = {"$jsonata": "$string($sum(lines.qty))"}
    evaluate(mapping, ORDER)

    def no_clock() -> float:
        raise AssertionError("the clock was read")

    monkeypatch.setattr(time, "time", no_clock)
    monkeypatch.setattr(time, "time_ns", no_clock)
    assert evaluate(mapping, ORDER) == "3"


def test_cached_expression_is_safe_across_threads() -> None:
    mapping = {"$jsonata": "$sum(values) & ':' & name"}
    errors: list[str] = []

    def worker(n: int) -> None:
        for i in range(200):
            variables = {"values": [n, i], "name": f"t{n}"}
            result = evaluate(mapping, variables)
            if result != f"{n + i}:t{n}":
                errors.append(f"{result} for {variables}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_expression_compiled_in_one_thread_runs_in_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # jsonatapy expressions belong to the thread that compiled them: using one elsewhere
    # panics, dropping one elsewhere prints an "unraisable" error and leaks it.
    unraisable: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: unraisable.append(repr(info)))
    mapping = compile_formula({"total": {"$jsonata": "$sum(values) * 2"}, "n": {"$jsonata": "n"}})
    assert mapping.evaluate({"values": [1], "n": 0}) == {"total": 2, "n": 0}

    def run(n: int) -> Any:
        return mapping.evaluate({"values": [n, 1], "n": n})

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, range(40)))
    assert results == [{"total": 2 * (n + 1), "n": n} for n in range(40)]
    compile_expression.cache_clear()
    gc.collect()
    assert unraisable == []


def test_per_thread_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonata_formula, "EXPRESSIONS_PER_THREAD", 3)
    sizes: list[int] = []
    results: list[Any] = []

    def run() -> None:  # in a new thread, whose cache starts empty
        for i in [*range(10), 0]:
            results.append(evaluate({"$jsonata": f"n + {i}"}, {"n": 1}))
            sizes.append(len(jsonata_formula._thread.expressions))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert results == [1 + i for i in range(10)] + [1]
    assert max(sizes) == 3
