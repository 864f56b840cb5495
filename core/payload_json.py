"""Temporal's JSON payload converter, made fast for payloads of many dataclasses.

A flow run carries its node runs (dataclasses) in workflow state: into continue-as-new, out as
its result and in its `state` query. Temporal's default converter encodes a dataclass with
`dataclasses.asdict` (a deep copy of every output) and decodes one by calling
`typing.get_type_hints` on its class for every instance; over a run of a few thousand node runs
(a whole collection, issue 11) that took seconds in the workflow thread, past Temporal's
two-second deadlock detection. This converter writes the same JSON (so histories recorded with
either replay with the other) and reads the same values:

- encoding turns a dataclass into a shallow dict of its fields and lets the C JSON encoder
  walk the rest;
- decoding builds dataclasses as Temporal does, with each class's fields and type hints looked
  up once.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from typing import Any, Union, get_args, get_origin, get_type_hints

from temporalio.converter import (
    AdvancedJSONEncoder,
    CompositePayloadConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    JSONTypeConverter,
    value_to_type,
)


class ShallowDataclassEncoder(AdvancedJSONEncoder):
    """`AdvancedJSONEncoder` with dataclasses as shallow dicts (no deep copy of their values)."""

    def default(self, o: Any) -> Any:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return {f.name: getattr(o, f.name) for f in _fields(type(o))}
        return super().default(o)


@functools.cache
def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(cls)


@functools.cache
def _plan(cls: type) -> tuple[tuple[dataclasses.Field[Any], Any, tuple[type, ...] | None], ...]:
    """Each field with its type hint and, when JSON already holds it as that type, the Python
    types its value may be (then it is only checked, not converted)."""
    hints = get_type_hints(cls)
    return tuple((f, hints[f.name], _as_loaded(hints[f.name])) for f in dataclasses.fields(cls))


_LOADED: dict[Any, tuple[type, ...]] = {
    Any: (object,),
    str: (str,),
    bool: (bool,),
    int: (int, float),  # as Temporal accepts either for either
    float: (int, float),
    type(None): (type(None),),
    list[Any]: (list,),
    dict[str, Any]: (dict,),
}


def _as_loaded(hint: Any) -> tuple[type, ...] | None:
    """The types `json.loads` gives a value of type `hint` in (None: it needs converting)."""
    if isinstance(hint, types.UnionType) or get_origin(hint) is Union:
        members = [_as_loaded(member) for member in get_args(hint)]
        if any(member is None for member in members):
            return None
        return tuple(t for member in members if member is not None for t in member)
    try:
        return _LOADED.get(hint)
    except TypeError:  # unhashable hint
        return None


class DataclassConverter(JSONTypeConverter):
    """Decodes dataclasses as `temporalio.converter.value_to_type` does, with cached hints."""

    def to_typed_value(self, hint: type, value: Any) -> Any:
        if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
            return JSONTypeConverter.Unhandled
        if not isinstance(value, dict):
            raise TypeError(f"Cannot convert to dataclass {hint}, value is {type(value)} not dict")
        init: dict[str, Any] = {}
        late: dict[str, Any] = {}
        for field, field_hint, loaded in _plan(hint):
            if field.name not in value:
                continue  # a missing required field fails the constructor, as Temporal's does
            converted = value[field.name]
            if loaded is None or not isinstance(converted, loaded):
                try:
                    converted = value_to_type(field_hint, converted, [self])
                except Exception as err:
                    raise TypeError(
                        f"Failed converting field {field.name} on dataclass {hint}"
                    ) from err
            (init if field.init else late)[field.name] = converted
        obj = hint(**init)
        for name, field_value in late.items():
            object.__setattr__(obj, name, field_value)
        return obj


class FastJSONPlainPayloadConverter(JSONPlainPayloadConverter):
    def __init__(self) -> None:
        super().__init__(
            encoder=ShallowDataclassEncoder, custom_type_converters=[DataclassConverter()]
        )


class OsmoPayloadConverter(CompositePayloadConverter):
    """Temporal's default payload converters, with the fast JSON one in place of its own."""

    def __init__(self) -> None:
        super().__init__(
            *(
                FastJSONPlainPayloadConverter()
                if isinstance(converter, JSONPlainPayloadConverter)
                else converter
                for converter in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )
