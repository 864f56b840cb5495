"""Names: connector-safe keys, input names usable in templates, and escaped locators."""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_KEY_LENGTH = 64
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NOT_KEY = re.compile(r"[^a-z0-9]+")
# `{{ input.x }}` placeholders accept only these characters, and `.` separates steps.
_NOT_TEMPLATE = re.compile(r"[^A-Za-z0-9_\-]")
_LOCATOR_SPECIAL = re.compile(r"([\\.\[])")


def kebab(text: str) -> str:
    """`getCurrentUser`, `issues/create`, `chat_postMessage` → `get-current-user`, ...."""
    return _NOT_KEY.sub("-", _CAMEL.sub(r"\1-\2", text).lower()).strip("-")


def humanize(text: str) -> str:
    """`personalAccessToken` → `Personal access token` (for names shown to people)."""
    words = kebab(text).replace("-", " ")
    return words[:1].upper() + words[1:] if words else text


class KeyAllocator:
    """Hands out unique kebab-case keys of at most 64 characters (`x`, `x-2`, `x-3`...)."""

    def __init__(self, fallback: str) -> None:
        self._fallback = fallback
        self._taken: set[str] = set()

    def take(self, *candidates: str | None) -> str:
        """The first candidate that yields a key, made unique."""
        base = next((k for k in (kebab(c or "") for c in candidates) if k), self._fallback)
        base = base[:MAX_KEY_LENGTH].rstrip("-")
        key, counter = base, 1
        while key in self._taken:
            counter += 1
            suffix = f"-{counter}"
            key = base[: MAX_KEY_LENGTH - len(suffix)].rstrip("-") + suffix
        self._taken.add(key)
        return key


class InputNames:
    """Input property names of one operation, unique across path, query, header and body.

    A parameter keeps its own name (`page[size]`, `Intercom-Version`) so callers can use the
    names from the API's docs; locators escape what they must. Only path parameters, which
    go through `{{ }}` templates, get template-safe names.
    """

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._taken: set[str] = set(reserved)

    def take(self, name: str, location: str) -> str:
        wanted = _NOT_TEMPLATE.sub("_", name) if location == "path" else name
        candidate = wanted
        if candidate in self._taken:
            candidate = f"{wanted}_{location}"
        counter = 1
        while candidate in self._taken:
            counter += 1
            candidate = f"{wanted}_{location}{counter}"
        self._taken.add(candidate)
        return candidate

    def __contains__(self, name: object) -> bool:
        return name in self._taken


def input_locator(name: str) -> str:
    """The locator of `input.<name>`, escaping `.`, `[` and `\\` inside the name."""
    return "input." + _LOCATOR_SPECIAL.sub(r"\\\1", name)


def placeholder(scope: str, name: str) -> str:
    """`{{ scope.name }}`, a template placeholder."""
    return "{{ " + scope + "." + name + " }}"


def template_name(name: str) -> str:
    """A name usable inside `{{ inputs.<name> }}` (server variables)."""
    return _NOT_TEMPLATE.sub("_", name)
