"""What a `schedule-trigger` config means, checked without Temporal (docs/schedules.md).

The flow definition is checked when it is saved (`core/elements/flows.py`) and again before the
schedule is created (`activities/schedules.py`), so a bad cron expression or time zone is a
422 at save time and a clear `invalid_schedule` error for a definition saved before the check.
Temporal validates the spec again when the schedule is created.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from typing import Any

DEFAULT_OVERLAP = "skip"
DEFAULT_CATCHUP_WINDOW_SECONDS = 300
DEFAULT_TIMEZONE = "UTC"

MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
"""Cron shorthands Temporal accepts besides the five fields."""

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

# (name, lowest, highest, names that stand for numbers from `lowest`)
_FIELDS: tuple[tuple[str, int, int, list[str]], ...] = (
    ("minute", 0, 59, []),
    ("hour", 0, 23, []),
    ("day of month", 1, 31, []),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),  # 0 and 7 are Sunday
)
_ITEM = re.compile(r"^(?P<range>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>[0-9]+))?$")


def _value(text: str, low: int, high: int, names: list[str]) -> int | None:
    if text in names:
        return low + names.index(text)
    if text.isdigit() and low <= int(text) <= high:
        return int(text)
    return None


def _field_problem(text: str, name: str, low: int, high: int, names: list[str]) -> str | None:
    for item in text.lower().split(","):
        match = _ITEM.match(item)
        if not match:
            return f"{name} {item!r} is not a value, a range (a-b), `*` or a step (/n)"
        step = match["step"]
        if step is not None and int(step) < 1:
            return f"{name} step must be at least 1"
        if match["range"] == "*":
            continue
        bounds = [_value(part, low, high, names) for part in match["range"].split("-")]
        if any(bound is None for bound in bounds):
            return f"{name} {item!r} is outside {low}-{high}"
        if len(bounds) == 2 and bounds[0] > bounds[1]:  # type: ignore[operator]
            return f"{name} range {item!r} runs backwards"
    return None


def cron_problem(cron: str) -> str | None:
    """Why `cron` is not a five-field cron expression (or a shorthand such as `@daily`); None
    when it is one."""
    text = cron.strip()
    if text.startswith("@"):
        return None if text.lower() in MACROS else f"unknown cron shorthand {text!r}"
    parts = text.split()
    if len(parts) != len(_FIELDS):
        return (
            f"a cron expression has 5 fields (minute hour day-of-month month day-of-week), "
            f"got {len(parts)}"
        )
    for part, (name, low, high, names) in zip(parts, _FIELDS, strict=True):
        problem = _field_problem(part, name, low, high, names)
        if problem:
            return problem
    return None


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_problem(name: str) -> str | None:
    """Why `name` is not an IANA time zone; None when it is one, or when this host has no time
    zone database to tell (Temporal checks it again)."""
    zones = _known_zones()
    if not zones or name in zones or name == "UTC":
        return None
    return f"unknown time zone {name!r}"


def schedule_problems(config: Any) -> list[tuple[str, str]]:
    """`(config field, message)` for each problem of a `schedule-trigger` config that its JSON
    schema does not catch: cron syntax, time zone, and both `cron` and `intervalSeconds`."""
    problems: list[tuple[str, str]] = []
    if not isinstance(config, dict):
        return problems  # the JSON schema reports it
    cron = config.get("cron")
    if isinstance(cron, str) and cron.strip():
        problem = cron_problem(cron)
        if problem:
            problems.append(("cron", problem))
        if config.get("intervalSeconds") is not None:
            problems.append(("intervalSeconds", "give either cron or intervalSeconds, not both"))
    timezone = config.get("timezone")
    if isinstance(timezone, str) and timezone:
        problem = timezone_problem(timezone)
        if problem:
            problems.append(("timezone", problem))
    return problems
