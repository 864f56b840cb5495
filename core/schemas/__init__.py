"""Data schemas: JSON Schema plus Osmo's extensions.

Extensions understood here: `referenceCollection {key, parameters}`, `referenceRecords`
(`[{id, name}]`), `referenceUdm`, `allowCustom`, `isImplied`, `isSensitive`, and the dynamic
`$dataSchemaRef {type: data-collection | app-data-schema, key, parameters?}` resolved through a
`SchemaResolver`.
"""

from __future__ import annotations

from core.schemas.merge import merge_schemas, schema_from_example
from core.schemas.paths import format_path, join_index, join_key
from core.schemas.problems import SchemaProblem
from core.schemas.refs import (
    SchemaRefError,
    SchemaResolver,
    StaticSchemaResolver,
    resolve_schema_refs,
)
from core.schemas.sensitivity import is_sensitive_path, sensitive_paths
from core.schemas.types import json_type
from core.schemas.validation import validate_value
from core.schemas.well_formed import validate_schema

__all__ = [
    "SchemaProblem",
    "SchemaRefError",
    "SchemaResolver",
    "StaticSchemaResolver",
    "format_path",
    "is_sensitive_path",
    "join_index",
    "join_key",
    "json_type",
    "merge_schemas",
    "resolve_schema_refs",
    "schema_from_example",
    "sensitive_paths",
    "validate_schema",
    "validate_value",
]
