from __future__ import annotations

import re

import pytest

from core.formulas import UNDEFINED, LocatorError, evaluate, parse_locator

DATA = {
    "a": {"b": [{"c": 1}, {"c": 2}]},
    "dotted.key": "dot",
    "br[0]": "bracket",
    "back\\slash": "slash",
    "$price": 5,
}


@pytest.mark.parametrize(
    ("locator", "segments"),
    [
        ("$.a.b[0]", ("a", "b", 0)),
        ("a.b[0]", ("a", "b", 0)),
        ("$", ()),
        ("$[1]", (1,)),
        ("a[0][1]", ("a", 0, 1)),
        ("a[-1].b", ("a", -1, "b")),
        (r"dotted\.key", ("dotted.key",)),
        (r"br\[0]", ("br[0]",)),
        ("back\\\\slash", ("back\\slash",)),
        ("$.$price", ("$price",)),
    ],
)
def test_parse_locator(locator: str, segments: tuple[object, ...]) -> None:
    assert parse_locator(locator) == segments


@pytest.mark.parametrize(
    ("locator", "message"),
    [
        ("", "non-empty"),
        ("a..b", "empty key"),
        (".a", "empty key"),
        ("a.", "empty key"),
        ("a[", 'unclosed "["'),
        ("a[x]", "non-integer index"),
        ("a[0]b", 'needs "." after "]"'),
        ("a\\", "lone backslash"),
    ],
)
def test_malformed_locators_are_rejected(locator: str, message: str) -> None:
    with pytest.raises(LocatorError, match=re.escape(message)):
        parse_locator(locator)


@pytest.mark.parametrize(
    ("locator", "expected"),
    [
        ("$.a.b[1].c", 2),
        ("a.b[-1].c", 2),
        ("a.b[5].c", UNDEFINED),
        ("a.b.c", UNDEFINED),
        ("a.b[0].c.d", UNDEFINED),
        ("missing", UNDEFINED),
        (r"dotted\.key", "dot"),
        (r"br\[0]", "bracket"),
        ("back\\\\slash", "slash"),
        ("$.$price", 5),
    ],
)
def test_var_reads_locators(locator: str, expected: object) -> None:
    assert evaluate({"$var": locator}, DATA) == expected


def test_root_locator_returns_all_variables() -> None:
    assert evaluate({"$var": "$"}, {"x": 1}) == {"x": 1}


def test_null_is_a_value_not_undefined() -> None:
    assert evaluate({"v": {"$var": "v"}}, {"v": None}) == {"v": None}
