"""Locators: `$.a.b[0]` paths into variables (the leading `$.` is optional).

A backslash escapes the next character, so `$.a\\.b` reads the key `a.b` and `$.a\\[0]` the key
`a[0]`. `$` alone is the whole variables object. `[-1]` is the last element of an array.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from core.formulas.values import UNDEFINED

if TYPE_CHECKING:
    from core.formulas.scope import Scope

Segment = str | int
Getter = Callable[[Any], Any]


class LocatorError(ValueError):
    """A locator string is malformed."""


def parse_locator(locator: Any) -> tuple[Segment, ...]:
    """Split a locator into keys (str) and array indices (int).

    Raises:
        LocatorError: Not a string, an empty key, an unclosed bracket, a non-integer index or a
            trailing backslash.
    """
    if not isinstance(locator, str) or not locator:
        raise LocatorError("a locator must be a non-empty string")
    return _parse(locator)


@lru_cache(maxsize=4096)
def _parse(locator: str) -> tuple[Segment, ...]:
    text = locator
    if text == "$":
        return ()
    if text.startswith(("$.", "$[")):
        text = text[2:] if text[1] == "." else text[1:]
    return tuple(_scan(text, locator))


def _scan(text: str, locator: str) -> list[Segment]:
    segments: list[Segment] = []
    key: list[str] = []
    after_index = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 == len(text):
                raise LocatorError(f'locator "{locator}" ends with a lone backslash')
            key.append(text[i + 1])
            i += 2
            continue
        if char in ".[":
            if key:
                segments.append("".join(key))
                key = []
            elif char == "." and not after_index:
                raise LocatorError(f'locator "{locator}" has an empty key')
            after_index = False
            if char == "[":
                end = text.find("]", i)
                if end == -1:
                    raise LocatorError(f'locator "{locator}" has an unclosed "["')
                segments.append(_index(text[i + 1 : end], locator))
                after_index = True
                i = end + 1
                continue
        else:
            if after_index:
                raise LocatorError(f'locator "{locator}" needs "." after "]"')
            key.append(char)
        i += 1
    if key:
        segments.append("".join(key))
    elif not after_index:
        raise LocatorError(f'locator "{locator}" has an empty key')
    return segments


def _index(text: str, locator: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise LocatorError(f'locator "{locator}" has a non-integer index "[{text}]"') from None


def get_in(data: Any, segments: tuple[Segment, ...]) -> Any:
    """Read `segments` from `data`; `UNDEFINED` when any step is missing."""
    for segment in segments:
        if isinstance(segment, str):
            if type(data) is not dict:
                return UNDEFINED
            data = data.get(segment, UNDEFINED)
            if data is UNDEFINED:
                return data
        else:
            if type(data) is not list or not -len(data) <= segment < len(data):
                return UNDEFINED
            data = data[segment]
    return data


def make_scope_getter(segments: tuple[Segment, ...]) -> Callable[[Scope], Any]:
    """Like `make_getter`, but reading `scope.variables` directly (saves a call per read)."""
    if len(segments) == 1 and isinstance(segments[0], str):
        key = segments[0]

        def get_variable(scope: Scope) -> Any:
            data = scope.variables
            return data.get(key, UNDEFINED) if type(data) is dict else UNDEFINED

        return get_variable
    get = make_getter(segments)
    return lambda scope: get(scope.variables)


def make_getter(segments: tuple[Segment, ...]) -> Getter:
    """A fast reader for a parsed locator (the common one- and two-key cases are inlined)."""
    if not segments:
        return lambda data: data
    if all(type(s) is str for s in segments):
        if len(segments) == 1:
            (key,) = segments

            def get_one(data: Any) -> Any:
                return data.get(key, UNDEFINED) if type(data) is dict else UNDEFINED

            return get_one
        if len(segments) == 2:
            first, second = segments

            def get_two(data: Any) -> Any:
                if type(data) is dict:
                    inner = data.get(first)
                    if type(inner) is dict:
                        return inner.get(second, UNDEFINED)
                return UNDEFINED

            return get_two
    return lambda data: get_in(data, segments)
