"""Base of element definitions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

Problem = dict[str, str]


class Definition(BaseModel):
    """Closed, camelCase definitions: an unknown field is a validation problem."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
