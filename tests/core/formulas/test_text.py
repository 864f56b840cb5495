from __future__ import annotations

import pytest

from core.formulas import UNDEFINED, FormulaEvaluationError, evaluate

VARS = {
    "first": "Ada",
    "last": "Lovelace",
    "empty": "",
    "nil": None,
    "n": 3,
    "f": 2.0,
    "flag": True,
    "tags": ["a", "", "b"],
    "obj": {"k": 1},
    "user": {"name": "Grace"},
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hello {first} {last}!", "Hello Ada Lovelace!"),
        ("{$.user.name}", "Grace"),
        ("{ user.name }", "Grace"),
        ("[{missing}][{nil}]", "[][]"),
        ("{n}/{f}/{flag}", "3/2/true"),
        ("{obj}", '{"k":1}'),
        ("{{literal}} {first}", "{literal} Ada"),
        ("no placeholders", "no placeholders"),
        ("", ""),
    ],
)
def test_tpl(template: str, expected: str) -> None:
    assert evaluate({"$tpl": template}, VARS) == expected


def test_concat_list_skips_empty_null_and_undefined() -> None:
    value = [{"$var": "first"}, {"$var": "empty"}, {"$var": "nil"}, {"$var": "missing"}, "!"]
    assert evaluate({"$concat": value}, VARS) == "Ada!"


def test_concat_with_delimiter_and_arrays() -> None:
    value = {"values": [{"$var": "first"}, {"$var": "tags"}, {"$var": "n"}], "delimiter": ", "}
    assert evaluate({"$concat": value}, VARS) == "Ada, a, b, 3"


def test_concat_of_nothing_is_empty_string() -> None:
    assert evaluate({"$concat": {"values": [{"$var": "nil"}], "delimiter": " "}}, VARS) == ""


@pytest.mark.parametrize(
    ("full", "first", "last"),
    [
        ("Ada Lovelace", "Ada", "Lovelace"),
        ("  Ludwig   van Beethoven ", "Ludwig", "van Beethoven"),
        ("Cher", "Cher", UNDEFINED),
        ("   ", UNDEFINED, UNDEFINED),
        (None, UNDEFINED, UNDEFINED),
    ],
)
def test_first_and_last_name(full: str | None, first: object, last: object) -> None:
    assert evaluate({"$firstName": {"$var": "full"}}, {"full": full}) == first
    assert evaluate({"$lastName": {"$var": "full"}}, {"full": full}) == last


@pytest.mark.parametrize(
    ("text", "day", "time"),
    [
        ("2024-05-01T10:20:30Z", "2024-05-01", "10:20:30"),
        ("2024-05-01T10:20:30.250+02:00", "2024-05-01", "10:20:30.250000"),
        ("2024-05-01t23:59:00", "2024-05-01", "23:59:00"),
        ("2024-05-01", "2024-05-01", UNDEFINED),
    ],
)
def test_extract_date_and_time(text: str, day: str, time: object) -> None:
    assert evaluate({"$extractDate": {"$var": "t"}}, {"t": text}) == day
    assert evaluate({"$extractTime": {"$var": "t"}}, {"t": text}) == time


def test_extract_date_rejects_non_dates() -> None:
    with pytest.raises(FormulaEvaluationError, match="expected an ISO 8601 date-time"):
        evaluate({"$extractDate": {"$var": "t"}}, {"t": "yesterday"})
    with pytest.raises(FormulaEvaluationError, match="expected string, got integer"):
        evaluate({"$extractTime": {"$var": "t"}}, {"t": 20240501})


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("ada@Example.COM", "example.com"),
        ("weird@name@host.io", "host.io"),
        ("no-at-sign", UNDEFINED),
        ("trailing@", UNDEFINED),
        (None, UNDEFINED),
    ],
)
def test_domain_from_email(email: str | None, domain: object) -> None:
    assert evaluate({"$domainFromEmail": {"$var": "e"}}, {"e": email}) == domain
