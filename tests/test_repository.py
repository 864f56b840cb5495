"""The repository stands on its own: a user clones it alone, with nothing beside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Built from parts so this file does not match itself.
OUTSIDE = re.compile(r"\.\./" + "shared" + r"|/work/" + "shared")


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    return [ROOT / name.decode() for name in listed if name]


def test_no_tracked_file_refers_to_a_path_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        if not path.is_file():
            continue  # deleted in the work tree, not yet committed
        text = path.read_bytes().decode("utf-8", errors="ignore")
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not offenders, "tracked files refer outside the repository:\n" + "\n".join(offenders)


def test_the_design_document_is_in_the_repository() -> None:
    design = ROOT / "docs" / "architecture.md"
    assert design.is_file()
    readme = (ROOT / "README.md").read_text()
    assert "docs/architecture.md" in readme
