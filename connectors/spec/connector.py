"""The whole connector: `connectors/<slug>/connector.yaml`."""

from __future__ import annotations

from typing import Any, Self

from pydantic import Field, ModelWrapValidatorHandler, model_validator

from connectors.spec.api import ApiClientSpec
from connectors.spec.auth import AuthOption
from connectors.spec.base import SpecModel
from connectors.spec.collections import DataCollection
from connectors.spec.operations import HttpMapping, Operation
from connectors.spec.request_templates import templates_in_scope
from connectors.spec.webhooks import WebhookSpec
from connectors.udm import UNIFIED_MODELS


class ConnectorSpec(SpecModel):
    """One external app, as `connectors/<slug>/connector.yaml` describes it."""

    schema_: str | None = Field(
        None,
        alias="$schema",
        description="Path or URL of `connector.schema.json`, for editors (ignored by Osmo).",
    )
    key: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]*$", description="Stable key of the connector (kebab-case)."
    )
    name: str = Field(description="The app's name.")
    version: str = Field("1.0.0", description="Version of this connector file.")
    categories: list[str] = Field(
        default_factory=list, description="Catalog categories (crm, ticketing...)."
    )
    logo_url: str | None = Field(None, description="URL of the app's logo.")
    docs_url: str | None = Field(None, description="The vendor's API documentation.")
    auth: list[AuthOption] = Field(
        min_length=1, description="Ways to connect; the first is the default."
    )
    api: ApiClientSpec = Field(
        description="The app's API: base URL, headers, pagination, errors, rate limits."
    )
    request_templates: dict[str, HttpMapping] = Field(
        default_factory=dict,
        description="Request forms declared once and named: a request with `use: <name>` "
        "takes the template's fields, its own fields override them, and its `with` values "
        "are evaluated first and read by the template as `args`.",
    )
    operations: list[Operation] = Field(
        default_factory=list, description="Named requests with input and output schemas."
    )
    data_collections: list[DataCollection] = Field(
        default_factory=list, description="The app's record types."
    )
    webhooks: WebhookSpec | None = Field(
        None, description="How the app calls Osmo: signatures, handshakes, routing, event ids."
    )
    components: str | None = Field(
        None,
        description="Python escape hatch: `module:Class` (usually "
        "`connectors.<slug>.components:Components`) for what YAML cannot say.",
    )

    @model_validator(mode="wrap")
    @classmethod
    def _with_request_templates(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        with templates_in_scope(data):
            return handler(data)

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
