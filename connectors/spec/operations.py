"""Operations: named requests with input and output schemas."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from connectors.spec.api import Pagination
from connectors.spec.base import HttpMethod, SpecModel
from connectors.spec.request_templates import expand_template, reference_or_request


class HttpMapping(SpecModel):
    """A request built from variables: `path` is a `{{ }}` template (values URL-encoded);
    `query`, `headers` and `body` are JSON with formulas (`{$var: input.limit}`), and
    parameters that evaluate to nothing are left out.

    `use: <name>` starts from the connector's request template of that name (its fields, with
    the request's own fields on top); `with` values are evaluated against the request's
    variables first and the template reads them as `args` (`{$var: args.query}`).
    """

    model_config = ConfigDict(json_schema_extra=reference_or_request)

    use: str | None = Field(None, description="Name of a request template in `requestTemplates`.")
    with_: dict[str, Any] = Field(
        default_factory=dict,
        alias="with",
        description="Arguments of the template (formulas over the request's variables), read "
        "as `args`.",
    )
    method: HttpMethod = Field("GET", description="HTTP method.")
    path: str = Field(description="Path relative to `api.baseUrl` (a `{{ }}` template).")
    query: dict[str, Any] = Field(
        default_factory=dict, description="Query parameters (JSON with formulas)."
    )
    headers: dict[str, Any] = Field(
        default_factory=dict, description="Headers (JSON with formulas)."
    )
    body: Any = Field(None, description="Body (JSON with formulas).")
    body_format: Literal["json", "form"] = Field(
        "json", description="`form` sends the body form-encoded (`a[b]=1`)."
    )
    pagination: Pagination | None = Field(
        None, description="Overrides `api.pagination`; `{type: none}` turns it off."
    )

    @model_validator(mode="before")
    @classmethod
    def _use_template(cls, data: Any) -> Any:
        return expand_template(data)


class Operation(SpecModel):
    """One thing the app's API can do, callable as `POST /connections/{id}/operations/{key}/run`."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Stable key (kebab-case).")
    name: str = Field(description="Human-readable name.")
    description: str | None = Field(None, description="What the operation does.")
    docs_url: str | None = Field(None, description="The vendor's documentation of the endpoint.")
    read_only: bool = Field(False, description="True when the operation changes nothing.")
    input_schema: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object"},
        description="JSON Schema of the input (checked before anything is sent).",
    )
    output_schema: dict[str, Any] | None = Field(None, description="JSON Schema of the output.")
    request: HttpMapping = Field(
        description="The request, built from `input` (or a `use` of a request template)."
    )
    output: Any = Field(
        None, description="Formula over `response` (body) and `input`; default: the body."
    )
    paginate: bool = Field(
        False, description="Follow pagination and return every item (up to `maxItems` input)."
    )
