"""Keeps secrets out of logs and errors: known secret values and secret-looking names."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "[REDACTED]"
SECRET_NAME = re.compile(
    r"(authorization|cookie|token|secret|password|passwd|api[-_]?key|apikey|signature|"
    r"verifier|^code$|^oauth_|credential|private)",
    re.IGNORECASE,
)


# A JSON member whose name looks secret and whose value is a string.
_JSON_SECRET_MEMBER = re.compile(
    r'("(?:[^"\\]*(?:token|secret|password|passwd|api[-_]?key|apikey|signature|verifier|'
    r'credential|private|authorization|cookie)[^"\\]*)"\s*:\s*)"(?:[^"\\]|\\.)*"',
    re.IGNORECASE,
)


_SECRET_WORDS = (
    "token", "secret", "passw", "apikey", "api_key", "api-key", "signature", "verifier",
    "credential", "private", "authorization", "cookie",
)  # fmt: skip


def _may_hold_secrets(text: str) -> bool:
    """A cheap substring scan (a case-insensitive regex alternation is ~50x slower)."""
    lowered = text.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def secret_values(*sources: Any) -> set[str]:
    """Every string leaf (≥ 4 chars) of the given values: a connection's secrets."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str) and len(value) >= 4:
            found.add(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for source in sources:
        walk(source)
    return found


class Redactor:
    """Masks known secret values anywhere, and values of secret-named fields."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        ordered = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def text(self, value: str) -> str:
        return self._pattern.sub(MASK, value) if self._pattern else value

    def value(self, value: Any) -> Any:
        """`value` (JSON-like) with known secret values masked in every string, keys included.

        For outputs that go into workflow history: an app that echoes a token in its response
        body must not put it into a run's output.
        """
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        return value

    def headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        return {name: MASK if is_secret_name(name) else self.text(value) for name, value in headers}

    def url(self, url: str) -> str:
        if "?" not in url and "@" not in url:
            return self.text(url)
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = [(k, MASK if is_secret_name(k) else self.text(v)) for k, v in pairs]
        netloc = parts.netloc.rsplit("@", 1)[-1]
        return self.text(urlunsplit(parts._replace(netloc=netloc, query=urlencode(query))))

    def body(self, content: bytes, content_type: str, limit: int) -> str | None:
        """A redacted, truncated text form of a body (None when empty or binary)."""
        if not content:
            return None
        try:
            text = content.decode()
        except UnicodeDecodeError:
            return f"<{len(content)} bytes of binary data>"
        if "json" in content_type:
            # Text-level, so large bodies are not parsed and re-serialized just to be logged.
            if _may_hold_secrets(text):  # one cheap scan before the backtracking pattern
                text = _JSON_SECRET_MEMBER.sub(rf'\1"{MASK}"', text)
        elif "x-www-form-urlencoded" in content_type:
            pairs = parse_qsl(text, keep_blank_values=True)
            text = urlencode([(k, MASK if is_secret_name(k) else v) for k, v in pairs])
        text = self.text(text)
        return text if len(text) <= limit else text[:limit] + f"…[truncated {len(text) - limit}]"
