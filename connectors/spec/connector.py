"""The whole connector: `connectors/<slug>/connector.yaml`."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from connectors.spec.api import ApiClientSpec
from connectors.spec.auth import AuthOption
from connectors.spec.base import SpecModel
from connectors.spec.collections import DataCollection
from connectors.spec.operations import Operation
from connectors.spec.webhooks import WebhookSpec
from connectors.udm import UNIFIED_MODELS


class ConnectorSpec(SpecModel):
    """One external app, as `connectors/<slug>/connector.yaml` describes it."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    version: str = "1.0.0"
    categories: list[str] = Field(default_factory=list)
    logo_url: str | None = None
    docs_url: str | None = None
    auth: list[AuthOption] = Field(min_length=1)
    api: ApiClientSpec
    operations: list[Operation] = Field(default_factory=list)
    data_collections: list[DataCollection] = Field(default_factory=list)
    webhooks: WebhookSpec | None = None
    components: str | None = Field(
        None,
        description="Python escape hatch: `module:Class` (usually "
        "`connectors.<slug>.components:Components`) for what YAML cannot say.",
    )

    @model_validator(mode="after")
    def _unique_keys(self) -> Self:
        for kind, keys in (
            ("auth option", [a.key for a in self.auth]),
            ("operation", [o.key for o in self.operations]),
            ("data collection", [c.key for c in self.data_collections]),
        ):
            duplicates = sorted({k for k in keys if keys.count(k) > 1})
            if duplicates:
                raise ValueError(f"duplicate {kind} keys: {duplicates}")
        for collection in self.data_collections:
            if collection.udm and collection.udm.model not in UNIFIED_MODELS:
                raise ValueError(
                    f"data collection {collection.key!r}: unknown unified model "
                    f"{collection.udm.model!r} (known: {sorted(UNIFIED_MODELS)})"
                )
        return self

    def auth_option(self, key: str | None) -> AuthOption | None:
        """The auth option with `key`, or the first one when `key` is None."""
        if key is None:
            return self.auth[0]
        return next((option for option in self.auth if option.key == key), None)

    def operation(self, key: str) -> Operation | None:
        return next((op for op in self.operations if op.key == key), None)

    def collection(self, key: str) -> DataCollection | None:
        return next((c for c in self.data_collections if c.key == key), None)
