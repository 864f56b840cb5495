"""Three-way merge of an element's own changes onto its parent's latest version."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ABSENT: Any = object()  # a key that is not there, unlike one whose value is null


@dataclass
class MergeReport:
    """What `update_to_latest` did not simply take: paths in the merged definition."""

    dropped: list[str] = field(default_factory=list)  # changes to what the latest removed
    conflicts: list[str] = field(default_factory=list)  # both changed; the element's change kept


def merge_three_way(base: Any, mine: Any, latest: Any, path: str, report: MergeReport) -> Any:
    """The element's changes (base → mine) laid over the parent's latest version.

    Dicts merge per key; lists and scalars are atomic. A change inside an entry the latest
    removed is dropped. `ABSENT` in and out stands for a missing key.
    """
    if mine in (base, latest):
        return latest
    if latest == base:
        return mine
    if (
        isinstance(mine, dict)
        and isinstance(latest, dict)
        and (base is ABSENT or isinstance(base, dict))
    ):
        start = base if isinstance(base, dict) else {}
        merged = {}
        for key in dict.fromkeys([*latest, *mine]):
            value = merge_three_way(
                start.get(key, ABSENT),
                mine.get(key, ABSENT),
                latest.get(key, ABSENT),
                f"{path}.{key}",
                report,
            )
            if value is not ABSENT:
                merged[key] = value
        return merged
    if latest is ABSENT:
        report.dropped += _changed_paths(base, mine, path)
        return ABSENT
    report.conflicts.append(path)
    return mine


def _changed_paths(base: Any, mine: Any, path: str) -> list[str]:
    if not (isinstance(base, dict) and isinstance(mine, dict)):
        return [path]
    return [
        changed
        for key in dict.fromkeys([*base, *mine])
        if base.get(key, ABSENT) != mine.get(key, ABSENT)
        for changed in _changed_paths(base.get(key, ABSENT), mine.get(key, ABSENT), f"{path}.{key}")
    ]
