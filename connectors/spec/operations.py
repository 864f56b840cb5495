"""Operations: named requests with input and output schemas."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from connectors.spec.api import Pagination
from connectors.spec.base import HttpMethod, SpecModel


class HttpMapping(SpecModel):
    """A request built from variables: `path` is a `{{ }}` template (values URL-encoded);
    `query`, `headers` and `body` are JSON with formulas (`{$var: input.limit}`), and
    parameters that evaluate to nothing are left out."""

    method: HttpMethod = "GET"
    path: str
    query: dict[str, Any] = Field(default_factory=dict)
    headers: dict[str, Any] = Field(default_factory=dict)
    body: Any = None
    body_format: Literal["json", "form"] = "json"
    pagination: Pagination | None = Field(
        None, description="Overrides `api.pagination`; `{type: none}` turns it off."
    )


class Operation(SpecModel):
    """One thing the app's API can do, callable as `POST /connections/{id}/operations/{key}/run`."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    description: str | None = None
    docs_url: str | None = None
    read_only: bool = False
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    output_schema: dict[str, Any] | None = None
    request: HttpMapping
    output: Any = Field(
        None, description="Formula over `response` (body) and `input`; default: the body."
    )
    paginate: bool = Field(
        False, description="Follow pagination and return every item (up to `maxItems` input)."
    )
