from __future__ import annotations

import pytest

from core.formulas import UNDEFINED, FormulaEvaluationError, InvalidFormulaError, evaluate


def test_plain_returns_its_argument_unevaluated() -> None:
    value = {"$var": "x", "list": [{"$tpl": "{x}"}]}
    assert evaluate({"$plain": value}, {"x": 1}) == value


def test_copy_reads_the_result_being_built() -> None:
    mapping = {
        "summary": {"$copy": "name.full"},
        "name": {"full": {"$tpl": "{first} {last}"}},
        "again": {"$copy": "$.summary"},
    }
    result = evaluate(mapping, {"first": "Ada", "last": "L"})
    assert result == {"summary": "Ada L", "name": {"full": "Ada L"}, "again": "Ada L"}
    assert list(result) == ["summary", "name", "again"]


def test_copy_sees_siblings_inside_nested_objects() -> None:
    mapping = {"a": {"x": {"$var": "v"}, "y": {"$copy": "a.x"}}}
    assert evaluate(mapping, {"v": 7}) == {"a": {"x": 7, "y": 7}}


def test_copy_of_missing_field_is_undefined() -> None:
    assert evaluate({"a": {"$copy": "nope"}}, {}) == {}


def test_iterate_maps_items_with_index_and_parent() -> None:
    mapping = {
        "$iterate": {
            "source": {"$var": "orders"},
            "item": {
                "sku": {"$var": "item.sku"},
                "position": {"$var": "index"},
                "customer": {"$var": "parent.customer"},
                "alsoCustomer": {"$var": "customer"},
            },
        }
    }
    variables = {"customer": "c1", "orders": [{"sku": "A"}, {"sku": "B"}]}
    assert evaluate(mapping, variables) == [
        {"sku": "A", "position": 0, "customer": "c1", "alsoCustomer": "c1"},
        {"sku": "B", "position": 1, "customer": "c1", "alsoCustomer": "c1"},
    ]


def test_nested_iterate_reaches_the_enclosing_item() -> None:
    mapping = {
        "$iterate": {
            "source": {"$var": "groups"},
            "item": {
                "$iterate": {
                    "source": {"$var": "item.members"},
                    "item": {"$tpl": "{parent.item.name}/{item}"},
                }
            },
        }
    }
    variables = {"groups": [{"name": "g1", "members": ["a", "b"]}, {"name": "g2", "members": []}]}
    assert evaluate(mapping, variables) == [["g1/a", "g1/b"], []]


def test_iterate_drops_undefined_items_and_handles_missing_source() -> None:
    mapping = {"$iterate": {"source": {"$var": "xs"}, "item": {"$var": "item.v"}}}
    assert evaluate(mapping, {"xs": [{"v": 1}, {}, {"v": 3}]}) == [1, 3]
    assert evaluate(mapping, {}) is UNDEFINED
    assert evaluate(mapping, {"xs": None}) is UNDEFINED


def test_iterate_over_a_non_array_fails_with_its_type() -> None:
    mapping = {"out": {"$iterate": {"source": {"$var": "xs"}, "item": 1}}}
    with pytest.raises(FormulaEvaluationError) as raised:
        evaluate(mapping, {"xs": {"a": 1}})
    assert raised.value.path == "out.$iterate.source"
    assert "expected array, got object" in raised.value.message


def test_first_not_empty() -> None:
    options = [{"$var": "a"}, {"$var": "b"}, {"$var": "c"}, "fallback"]
    assert evaluate({"$firstNotEmpty": options}, {"a": "", "b": [], "c": 0}) == 0
    assert evaluate({"$firstNotEmpty": options}, {"a": None, "b": {}}) == "fallback"
    assert evaluate({"$firstNotEmpty": []}, {}) is UNDEFINED


def test_merge_objects_later_wins_and_skips_missing() -> None:
    parts = [{"$var": "base"}, {"$var": "missing"}, {"b": 3, "c": {"$var": "c"}}]
    assert evaluate({"$mergeObjects": parts}, {"base": {"a": 1, "b": 2}, "c": 4}) == {
        "a": 1,
        "b": 3,
        "c": 4,
    }


def test_merge_objects_rejects_non_objects() -> None:
    with pytest.raises(FormulaEvaluationError, match="expected object, got array"):
        evaluate({"$mergeObjects": [{"$var": "x"}]}, {"x": [1]})


def test_record_builds_a_reference() -> None:
    mapping = {
        "$record": {
            "id": {"$var": "id"},
            "name": {"$var": "title"},
            "fields": {"status": {"$var": "status"}},
        }
    }
    assert evaluate(mapping, {"id": 12, "title": "T", "status": "open"}) == {
        "id": "12",
        "name": "T",
        "fields": {"status": "open"},
    }
    assert evaluate(mapping, {"title": "no id"}) is UNDEFINED


def test_record_requires_an_id_and_known_attributes() -> None:
    with pytest.raises(InvalidFormulaError) as raised:
        evaluate({"r": {"$record": {"name": "x"}}}, {})
    assert raised.value.path == "r.$record"
    with pytest.raises(InvalidFormulaError) as unknown:
        evaluate({"$record": {"id": 1, "colour": "red"}}, {})
    assert unknown.value.path == "$record.colour"


def test_formula_evaluates_a_formula_held_in_the_variables() -> None:
    variables = {"settings": {"title": {"$tpl": "#{n}"}}, "n": 4}
    assert evaluate({"title": {"$formula": {"$var": "settings.title"}}}, variables) == {
        "title": "#4"
    }
    assert evaluate({"$formula": {"$var": "missing"}}, variables) is UNDEFINED
    assert evaluate({"$formula": {"$var": "n"}}, variables) == 4


def test_formula_reports_problems_of_the_held_formula_with_a_path() -> None:
    with pytest.raises(FormulaEvaluationError) as raised:
        evaluate({"x": {"$formula": {"$var": "f"}}}, {"f": {"a": {"$nope": 1}}})
    assert raised.value.path == "x.$formula.a.$nope"


def test_formula_that_refers_to_itself_stops() -> None:
    variables = {"f": {"$formula": {"$var": "f"}}}
    with pytest.raises(FormulaEvaluationError, match="nested deeper"):
        evaluate({"$formula": {"$var": "f"}}, variables)


def test_copy_inside_top_level_iterate_reads_its_own_item() -> None:
    mapping = {
        "$iterate": {
            "source": {"$var": "xs"},
            "item": {"a": {"$var": "item"}, "b": {"$copy": "a"}},
        }
    }
    assert evaluate(mapping, {"xs": [1, 2]}) == [{"a": 1, "b": 1}, {"a": 2, "b": 2}]
    array = [{"a": 1, "b": {"$copy": "a"}}, {"a": 2, "b": {"$copy": "a"}}]
    assert evaluate(array, {}) == [{"a": 1, "b": 1}, {"a": 2, "b": 2}]


def test_copy_inside_iterate_within_an_object_reads_the_result_root() -> None:
    mapping = {
        "title": {"$var": "t"},
        "lines": {"$iterate": {"source": {"$var": "xs"}, "item": {"t": {"$copy": "title"}}}},
    }
    assert evaluate(mapping, {"t": "T", "xs": [1, 2]}) == {
        "title": "T",
        "lines": [{"t": "T"}, {"t": "T"}],
    }
