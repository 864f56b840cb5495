"""Formula locators that read a variable the runtime never sets (a typo, or a wrong root)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from core.formulas import LocatorError, parse_locator

_TPL_PLACEHOLDER = re.compile(r"(?<!\{)\{([^{}]+)\}(?!\})")
_ITERATE_VARIABLES = frozenset({"item", "index", "parent"})


def unread_variables(value: Any, available: Iterable[str]) -> list[str]:
    """Locators in `$var`/`$tpl` formulas whose first step is none of `available`.

    Such a locator always evaluates to undefined, so its parameter silently disappears from
    the request (a typo like `inputs.x` for `input.x`, or a variable the runtime never sets).
    """
    names = frozenset(available)
    if isinstance(value, list):
        return [bad for item in value for bad in unread_variables(item, names)]
    if not isinstance(value, dict):
        return []
    if len(value) == 1 and next(iter(value)).startswith("$"):
        name, arg = next(iter(value.items()))
        locators = []
        if name == "$var" and isinstance(arg, str):
            locators = [arg]
        elif name == "$tpl" and isinstance(arg, str):
            locators = _TPL_PLACEHOLDER.findall(arg)
        elif name == "$plain":
            return []
        elif name == "$iterate" and isinstance(arg, dict):
            inner = names | _ITERATE_VARIABLES
            return unread_variables(arg.get("source"), names) + unread_variables(
                arg.get("item"), inner
            )
        unread = [loc for loc in locators if _root(loc) not in names and _root(loc) != ""]
        return unread + unread_variables(arg, names)
    return [bad for item in value.values() for bad in unread_variables(item, names)]


def _root(locator: str) -> Any:
    try:
        steps = parse_locator(locator.strip())
    except LocatorError:
        return None
    return steps[0] if steps else ""
