"""Element bodies, one family per kind, built from the kind's definition model.

`XCreate` / `XUpdate` take the definition's fields beside the envelope (`key`, `name`,
`integrationKey`, `revision`); `XPublic` answers the resolved definition beside the element's
identity and layer. Fields are optional in requests: the store checks the merged definition
(three layers) and answers each problem with its path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal

from pydantic import ConfigDict, Field, create_model
from pydantic.alias_generators import to_camel

from api.models import ApiModel, PublicModel
from core.elements.kinds import ElementKind


class ElementEnvelope(ApiModel):
    key: str | None = Field(None, description="Required on create.")
    name: str | None = None
    integration_key: str | None = Field(None, description="Create at this integration's layer.")


class ElementRevision(ApiModel):
    revision: int | None = Field(
        None, description="The revision you read; a newer one answers 409 and saves nothing."
    )


class ElementChange(ElementRevision):
    name: str | None = None
    # Accepted and ignored, so a client may send back the envelope it read.
    key: str | None = Field(None, description="Ignored: an element's key does not change.")
    id: str | None = Field(None, description="Ignored.")
    integration_key: str | None = Field(None, description="Ignored.")


class MergeReportPublic(PublicModel):
    dropped: list[str] = Field(description="Customized paths the parent removed.")
    conflicts: list[str] = Field(description="Paths both sides changed; the customization won.")


class ElementWarning(PublicModel):
    """Something to fix that does not stop the element from being saved."""

    path: str = Field(description="Where in the definition, e.g. `nodes.create.config.actionKey`.")
    message: str


class ElementPublicBase(PublicModel):
    """What every element answers beside its resolved definition."""

    model_config = ConfigDict(extra="allow")

    id: str
    kind: str
    key: str
    name: str | None = None
    layer: Literal["universal", "integration", "connection"]
    integration_id: str | None = None
    connection_id: str | None = None
    instance_key: str | None = None
    parent_id: str | None = None
    is_customized: bool = False
    is_outdated: bool = False
    customizations: dict[str, Any] | None = Field(
        None, description="The instance's own changes over its parent (customized layers)."
    )
    revision: int
    created_at: datetime
    updated_at: datetime
    warnings: list[ElementWarning] = Field(
        default_factory=list,
        description="Elements the definition names by key (`dataSourceKey`, `actionKey`, "
        "`dataLinkTable`) that do not exist yet: saved anyway, since they may be created "
        "later, but a run fails at its start until they are. Not computed in lists.",
    )


@dataclass(frozen=True)
class ElementModels:
    """The request and response models of one element kind."""

    create: type[ApiModel]
    update: type[ApiModel]
    public: type[PublicModel]
    updated: type[PublicModel]
    list: type[PublicModel]


def _optional_fields(kind: ElementKind) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, info in kind.model.model_fields.items():
        alias = info.alias or to_camel(name)
        fields[name] = (
            info.annotation | None,  # type: ignore[operator]  # always set on a model's fields
            Field(None, alias=alias, description=info.description),
        )
    return fields


@cache
def models_for(kind: ElementKind) -> ElementModels:
    """The model family of `kind` (e.g. `FlowCreate`, `FlowUpdate`, `FlowPublic`)."""
    stem = "".join(part.title() for part in kind.name.removesuffix("s").split("-"))
    definition = _optional_fields(kind)
    create = create_model(f"{stem}Create", __base__=ElementEnvelope, **definition)
    update = create_model(f"{stem}Update", __base__=ElementChange, **definition)
    public = create_model(f"{stem}Public", __base__=ElementPublicBase, **definition)
    updated = create_model(
        f"{stem}UpdatedToLatest",
        __base__=public,
        update=(MergeReportPublic, Field(description="What the merge did not simply take.")),
    )
    listed = create_model(
        f"{stem}List", __base__=PublicModel, items=(list[public], ...), cursor=(str | None, None)
    )
    return ElementModels(create, update, public, updated, listed)


def element_request_models(models: ElementModels) -> tuple[type[ApiModel], ...]:
    """The request models of a kind, which routes reference from the OpenAPI by name."""
    return (models.create, models.update)
