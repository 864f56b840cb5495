"""The connector catalog: sample connections, a dry run of every request, the README table.

`dry_run(spec)` renders every request a connector can make (auth test requests, operations,
collection methods with their pagination, webhook subscriptions) against a connection filled
with sample values, so checks need no network and no credentials. `python -m
connectors.catalog --write` regenerates the README table (`--check` fails when it is stale).
"""

from connectors.catalog.dry_run import DryRun, PlannedRequest, dry_run
from connectors.catalog.samples import (
    SAMPLE_FORMATS,
    SAMPLE_ID,
    SAMPLE_WEBHOOK,
    integration_parameters,
    sample_context,
    sample_credentials,
    sample_value,
)
from connectors.catalog.table import connectors_table, main, readme_diff, with_table
from connectors.catalog.variables import unread_variables

__all__ = [
    "SAMPLE_FORMATS",
    "SAMPLE_ID",
    "SAMPLE_WEBHOOK",
    "DryRun",
    "PlannedRequest",
    "connectors_table",
    "dry_run",
    "integration_parameters",
    "main",
    "readme_diff",
    "sample_context",
    "sample_credentials",
    "sample_value",
    "unread_variables",
    "with_table",
]
